import { afterEach, describe, expect, it } from 'vitest';
import { lambdaContext } from '../support/lambda-context';
import { githubWebhookFor } from '../support/relay-fleet';
import { type DynamoDbRequest, onDynamoDbWrite, type ProxyAnswer } from './fault-proxy';
import { expectInvariants, type FaultWorld, sendWebhook, startFaultWorld } from './fault-world';

/**
 * The token store's writes took effect in DynamoDB, then their answer was lost (connection reset) or came after
 * the client's one-second timeout; the SDK sends the write again. The instance must read the retry's failed
 * condition as its own earlier success: one token request, not two; the token it published is the one the fleet
 * uses; no token refresh reported as failed.
 */
interface Row {
  readonly write: 'lease' | 'publish' | 'invalidate';
  readonly matches: (request: DynamoDbRequest) => boolean;
  readonly answer: { readonly label: string; readonly proxy: ProxyAnswer };
}

const tokenUpdate = (clause: string) => (request: DynamoDbRequest) =>
  request.operation === 'UpdateItem' &&
  (request.pk ?? '').startsWith('token#') &&
  (request.updateExpression ?? '').includes(clause);

const WRITES = [
  { write: 'lease', matches: tokenUpdate('#leaseOwner = :owner') },
  { write: 'publish', matches: tokenUpdate('#token = :token') },
  { write: 'invalidate', matches: tokenUpdate('#expiresAt = :zero') },
] as const;

const ANSWERS = [
  { label: 'connection reset', proxy: { afterApply: 'reset' } },
  // Past the relay's one-second DynamoDB request timeout (functions/relay/app.ts).
  { label: 'answer 1.5 s late', proxy: { afterApply: 'delay', ms: 1_500 } },
] as const;

const ROWS: readonly Row[] = WRITES.flatMap((w) => ANSWERS.map((answer) => ({ ...w, answer })));

/** The relay's structured log records. */
function logRecords(world: FaultWorld): Record<string, unknown>[] {
  return world.fleet
    .logs()
    .split('\n')
    .flatMap((line) => {
      try {
        const record: unknown = JSON.parse(line);
        return typeof record === 'object' && record !== null ? [record as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
}

describe('ambiguous faults: token store writes applied, then the answer lost', () => {
  let world: FaultWorld | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it.each(ROWS.map((row) => [`${row.write}: ${row.answer.label}`, row] as const))(
    '%s → delivered with one token request per refresh',
    async (_, row) => {
      // Prepare: for an invalidation, a warm environment whose token ONEiO then revokes.
      world = await startFaultWorld();
      const { fleet, dynamodb } = world;
      if (row.write === 'invalidate') {
        await sendWebhook(world);
        fleet.oneio.revokeAllTokens();
      }
      const tokensBefore = fleet.oneio.tokenRequests.count;
      dynamodb.setRule(onDynamoDbWrite(row.matches, row.answer.proxy));
      const faultsBefore = dynamodb.faults;

      // Act: the faulted webhook, then one from a second, cold environment that must find the published token.
      const delivery = await sendWebhook(world);
      const second = await (await fleet.coldStart())(
        githubWebhookFor('{"second":"environment"}'),
        lambdaContext(),
      );

      // Assess
      expect(dynamodb.faults - faultsBefore).toBe(1);
      expect({ http: delivery.http, message: delivery.message }).toEqual({ http: 200, message: 'delivered' });
      expect(second?.statusCode).toBe(200);
      expect(fleet.oneio.tokenRequests.count - tokensBefore).toBe(1);
      const [faulted, fromSecond] = fleet.oneio.messages.slice(-2);
      expect(fromSecond?.accessToken).toBe(faulted?.accessToken);
      const records = logRecords(world);
      expect(records.filter((r) => r.message === 'Access token refreshed').map((r) => r.shared)).toContain(
        true,
      );
      expect(
        records.filter((r) => r.message === 'Access token refreshed').map((r) => r.shared),
      ).not.toContain(false);
      expect(records.map((r) => r.message)).not.toContain('Access token refresh failed');
      expect(records.map((r) => r.message)).not.toContain(
        'Token store unavailable; using a token of this instance',
      );
      expectInvariants(world, delivery);
    },
  );
});

import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dedupKey } from '../../functions/relay/core/dedup/delivery-key';
import { DynamoDbDedupStore } from '../../functions/relay/io/dynamodb/dedup-store';
import { createTestTable } from '../support/dynamodb';
import { lambdaContext } from '../support/lambda-context';
import { type Fleet, githubWebhookFor, startFleet } from '../support/relay-fleet';
import { eventBridgeEvent, webhookEvent } from '../support/webhook-event';

function countOf(fleet: Fleet, marker: string): number {
  return fleet.oneio.messages.filter((m) => m.body.includes(marker)).length;
}

/** The HTTP status and the JSON body of a webhook answer, side by side. */
function answer(response: { statusCode?: number | undefined; body?: string | undefined } | undefined) {
  return { http: response?.statusCode, body: JSON.parse(response?.body ?? '{}') as Record<string, unknown> };
}

describe('de-duplication by delivery id', () => {
  let fleet: Fleet;
  let dedup: DynamoDbDedupStore;

  beforeAll(async () => {
    const { client, tableName } = await createTestTable();
    dedup = new DynamoDbDedupStore(DynamoDBDocumentClient.from(client), tableName);
    fleet = await startFleet({ dynamodbEndpoint: inject('dynamodbEndpoint'), tableName });
  });

  afterAll(() => fleet.close());

  it('delivers a webhook sent twice once, and answers the copy with the first relay id', async () => {
    const handle = await fleet.coldStart();
    const event = githubWebhookFor('{"marker":"twice"}');

    const first = answer(await handle(event, lambdaContext()));
    const second = answer(await handle(event, lambdaContext()));

    expect(first).toMatchObject({ http: 200, body: { status: 'delivered' } });
    expect(second).toEqual({ http: 200, body: { relayId: first.body.relayId, status: 'duplicate' } });
    expect(countOf(fleet, 'twice')).toBe(1);
  });

  it('delivers once when two environments receive the same delivery at the same time', async () => {
    const [a, b] = [await fleet.coldStart(), await fleet.coldStart()];
    const event = githubWebhookFor('{"marker":"racing"}');

    const answers = await Promise.all([a(event, lambdaContext()), b(event, lambdaContext())]);

    expect(countOf(fleet, 'racing')).toBe(1);
    // The loser sees the winner either in flight (409, retry later) or done (200 duplicate).
    expect(answers.map((r) => r?.statusCode).sort()).toSatisfy(
      (codes: number[]) => codes[0] === 200 && (codes[1] === 200 || codes[1] === 409),
    );
  });

  it('relays a retry once the claim of a crashed attempt has lapsed', async () => {
    const handle = await fleet.coldStart();
    const event = githubWebhookFor('{"marker":"crashed"}');
    const deliveryId = event.headers['x-github-delivery'] ?? '';
    // What an attempt that died mid-flight leaves behind: an in-progress claim lapsing at its invocation's end.
    await dedup.claim(dedupKey('github', deliveryId), {
      relayId: 'crashed-attempt',
      claimToken: 'crashed-attempt-claim',
      now: Date.now(),
      lapseAt: Date.now() + 1_000,
      ttlSeconds: 3600,
    });

    const during = answer(await handle(event, lambdaContext()));
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const after = answer(await handle(event, lambdaContext()));

    expect(during).toMatchObject({ http: 409, body: { relayId: 'crashed-attempt' } });
    expect(after).toMatchObject({ http: 200, body: { status: 'delivered' } });
    expect(countOf(fleet, 'crashed')).toBe(1);
  });

  it('de-duplicates a sender without delivery ids by a hash of source and body', async () => {
    const handle = await fleet.coldStart();

    await handle(webhookEvent('demo', '{"marker":"no-id"}'), lambdaContext());
    const copy = answer(await handle(webhookEvent('demo', '{"marker":"no-id"}'), lambdaContext()));
    await handle(webhookEvent('demo', '{"marker":"no-id", "changed": true}'), lambdaContext());

    expect(copy).toMatchObject({ http: 200, body: { status: 'duplicate' } });
    expect(countOf(fleet, 'no-id')).toBe(2);
  });

  it('relays an EventBridge event delivered twice once', async () => {
    const handle = await fleet.coldStart();
    const event = eventBridgeEvent({ marker: 'eventbridge-twice' });

    await handle(event, lambdaContext());
    await handle(event, lambdaContext());

    expect(countOf(fleet, 'eventbridge-twice')).toBe(1);
  });
});

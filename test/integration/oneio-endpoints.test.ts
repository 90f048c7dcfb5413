import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ENV } from '../../functions/relay/contract';
import { createTestTable } from '../support/dynamodb';
import { lambdaContext } from '../support/lambda-context';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  CREDENTIALS_SECRET_ID,
  coldStartMany,
  type Fleet,
  GITHUB_SIGNING_SECRET,
  githubWebhookFor,
  startFleet,
} from '../support/relay-fleet';
import { eventBridgeEvent, webhookEvent } from '../support/webhook-event';

/**
 * Several ONEiO endpoints, one credential pair each, with real concurrency: every execution environment is its own
 * module instance, and they meet only in DynamoDB Local. Each pair has its own fleet-shared token.
 */

const ITSM = { clientId: 'relay-itsm', clientSecret: 'itsm p&ss=w+rd %é' };
const HR = { clientId: 'relay-hr', clientSecret: 'hr-secret-4b7e' };
const ITSM_ROTATED = 'itsm-rotated-9d2f';

const SOURCES = {
  github: { scheme: 'github' },
  desk: { scheme: 'unauthenticated', oneioEndpoint: 'itsm' },
  people: { scheme: 'unauthenticated', oneioEndpoint: 'hr' },
  orphan: { scheme: 'unauthenticated', oneioEndpoint: 'absent' },
};

/** The pair each source's messages must reach ONEiO with. */
const CLIENT_OF: Record<string, string> = {
  github: CLIENT_ID,
  desk: ITSM.clientId,
  people: HR.clientId,
};

function webhookFrom(source: 'github' | 'desk' | 'people' | 'orphan', body: string) {
  return source === 'github' ? githubWebhookFor(body) : webhookEvent(source, body);
}

describe('one access token per ONEiO endpoint for the whole fleet', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    const { tableName } = await createTestTable();
    fleet = await startFleet({
      dynamodbEndpoint: inject('dynamodbEndpoint'),
      tableName,
      endpoints: { itsm: ITSM, hr: HR },
      env: { [ENV.sources]: JSON.stringify(SOURCES) },
    });
  });

  afterAll(async () => {
    await fleet.close();
  });

  it('asks the token endpoint once per pair for 240 deliveries across 20 cold environments', async () => {
    // Prepare
    const handlers = await coldStartMany(fleet, 20);
    const sources = ['github', 'desk', 'people'] as const;

    // Act: each environment one invocation at a time, as Lambda runs them; environments side by side
    const statuses = await Promise.all(
      handlers.map(async (handle, env) => {
        const seen: number[] = [];
        for (let i = 0; i < 12; i++) {
          const source = sources[(env + i) % sources.length] ?? 'github';
          const body = `{"label":"cold-fleet","source":"${source}","env":${env},"i":${i}}`;
          seen.push((await handle(webhookFrom(source, body), lambdaContext()))?.statusCode ?? 0);
        }
        return seen;
      }),
    );

    // Assess: every message delivered, through its source's pair, and one token request per pair
    expect(statuses.flat().filter((s) => s === 200)).toHaveLength(240);
    const received = fleet.oneio.messages.filter((m) => m.body.includes('"cold-fleet"'));
    expect(received).toHaveLength(240);
    for (const message of received) {
      const source = (JSON.parse(message.body) as { source: string }).source;
      expect(message.clientId, source).toBe(CLIENT_OF[source]);
    }
    expect([...fleet.oneio.tokenRequests.clientIds].sort()).toEqual(
      [CLIENT_ID, HR.clientId, ITSM.clientId].sort(),
    );
  });

  it('relays an event of a rule naming an endpoint through that pair, and other events through the default', async () => {
    // Prepare
    const [handle] = await coldStartMany(fleet, 1);
    if (handle === undefined) throw new Error('no environment');
    const viaAlias = eventBridgeEvent({ label: 'rule-itsm' });
    const plain = eventBridgeEvent({ label: 'rule-default' });

    // Act: the alias the rule of endpoint itsm targets, then the function itself
    await handle(viaAlias, lambdaContext(25_000, 'oneio-endpoint-itsm'));
    await handle(plain, lambdaContext());

    // Assess
    const itsm = fleet.oneio.messages.find((m) => m.body.includes('"rule-itsm"'));
    const fallback = fleet.oneio.messages.find((m) => m.body.includes('"rule-default"'));
    expect(itsm?.clientId).toBe(ITSM.clientId);
    expect(JSON.parse(itsm?.body ?? '{}')).toEqual(viaAlias);
    expect(header(itsm?.request.headers, 'x-relay-source')).toBe('eventbridge:aws.ec2');
    expect(header(itsm?.request.headers, 'x-relay-message-id')).toBe(viaAlias.id);
    expect(header(itsm?.request.headers, 'x-relay-received-at')).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    );
    expect(fallback?.clientId).toBe(CLIENT_ID);
  });

  it("replaces one pair's token after ONEiO rotated that pair's secret, re-reading the secret once", async () => {
    // Prepare: environment 0 refreshes itsm's token, so it holds the pair's password in memory; then the password
    // changes in ONEiO and in the secret, and ONEiO drops itsm's tokens
    const handlers = await coldStartMany(fleet, 4);
    const [refresher] = handlers;
    if (refresher === undefined) throw new Error('no environment');
    fleet.oneio.revokeAllTokens(ITSM.clientId);
    for (const handle of handlers)
      await handle(webhookFrom('desk', '{"label":"before-rotation"}'), lambdaContext());
    const before = fleet.oneio.tokenRequests.clientIds.length;
    fleet.oneio.setClientSecret(ITSM.clientId, ITSM_ROTATED);
    fleet.secrets.setSecret(
      CREDENTIALS_SECRET_ID,
      credentialsSecret({ itsm: { ...ITSM, clientSecret: ITSM_ROTATED }, hr: HR }),
    );
    fleet.oneio.revokeAllTokens(ITSM.clientId);

    // Act: the environment with the old password first, then everyone side by side
    const first = await refresher(webhookFrom('desk', '{"label":"after-rotation","env":0}'), lambdaContext());
    const statuses = await Promise.all(
      handlers.map(async (handle, env) => {
        const seen: number[] = [];
        for (let i = 0; i < 3; i++) {
          const body = `{"label":"after-rotation","env":${env},"i":${i}}`;
          seen.push((await handle(webhookFrom('desk', body), lambdaContext()))?.statusCode ?? 0);
        }
        const other = webhookFrom('github', `{"label":"default-unmoved","env":${env}}`);
        seen.push((await handle(other, lambdaContext()))?.statusCode ?? 0);
        return seen;
      }),
    );

    // Assess: for the whole fleet, one request refused with the old password and one granted with the new; the
    // default pair keeps its token
    expect([first?.statusCode, ...statuses.flat()].every((s) => s === 200)).toBe(true);
    expect(fleet.oneio.tokenRequests.clientIds.slice(before)).toEqual([ITSM.clientId, ITSM.clientId]);
    const after = fleet.oneio.messages.filter((m) => m.body.includes('"after-rotation"'));
    expect(after).toHaveLength(13);
    expect(after.every((m) => m.clientId === ITSM.clientId)).toBe(true);
    expect(lastLogLine(fleet, 'Access token refreshed')).toMatchObject({ oneioEndpoint: 'itsm' });
  });

  it('answers 503 for a source whose endpoint has no pair in the secret, with a log line that says which', async () => {
    // Prepare
    const [handle] = await coldStartMany(fleet, 1);
    if (handle === undefined) throw new Error('no environment');
    const posts = fleet.oneio.receiverRequests;
    const tokenRequests = fleet.oneio.tokenRequests.count;

    // Act
    const response = await handle(webhookFrom('orphan', '{"label":"orphan"}'), lambdaContext());

    // Assess
    expect(response?.statusCode).toBe(503);
    expect(fleet.oneio.receiverRequests).toBe(posts);
    expect(fleet.oneio.tokenRequests.count).toBe(tokenRequests);
    const line = lastLogLine(fleet, 'Webhook handled');
    expect(line).toMatchObject({
      level: 'ERROR',
      statusCode: 503,
      source: 'orphan',
      oneioEndpoint: 'absent',
      outcome: 'failed',
      lastError: `Secret "${CREDENTIALS_SECRET_ID}" holds no credentials for ONEiO endpoint "absent": add "endpoints": {"absent": {"client_id": "…", "client_secret": "…"}} to it`,
    });
  });

  it('throws for an event of a rule whose endpoint has no pair, so Lambda retries it and then dead-letters it', async () => {
    // Prepare
    const [handle] = await coldStartMany(fleet, 1);
    if (handle === undefined) throw new Error('no environment');

    // Act
    const handling = handle(
      eventBridgeEvent({ label: 'orphan-event' }),
      lambdaContext(25_000, 'oneio-endpoint-absent'),
    );

    // Assess
    await expect(handling).rejects.toThrow(/holds no credentials for ONEiO endpoint "absent"/);
    expect(fleet.oneio.messages.some((m) => m.body.includes('"orphan-event"'))).toBe(false);
  });

  it('answers 503 again to the sender’s retry, and takes it once the pair is in the secret', async () => {
    // Prepare: the same delivery twice, as a sender retries a 503
    const [handle] = await coldStartMany(fleet, 1);
    if (handle === undefined) throw new Error('no environment');
    const first = await handle(webhookFrom('orphan', '{"label":"orphan-retried"}'), lambdaContext());
    const retried = await handle(webhookFrom('orphan', '{"label":"orphan-retried"}'), lambdaContext());
    // The operator adds the missing pair (here: HR's, which ONEiO knows)
    fleet.secrets.setSecret(
      CREDENTIALS_SECRET_ID,
      credentialsSecret({ itsm: { ...ITSM, clientSecret: ITSM_ROTATED }, hr: HR, absent: HR }),
    );

    // Act: the sender's next retry, in an environment that reads the secret as it is now
    const [fresh] = await coldStartMany(fleet, 1);
    const taken = await fresh?.(webhookFrom('orphan', '{"label":"orphan-retried"}'), lambdaContext());

    // Assess: neither refused copy was remembered as a duplicate; the one taken went through the new pair
    expect([first?.statusCode, retried?.statusCode, taken?.statusCode]).toEqual([503, 503, 200]);
    const delivered = fleet.oneio.messages.filter((m) => m.body.includes('"orphan-retried"'));
    expect(delivered.map((m) => m.clientId)).toEqual([HR.clientId]);
  });

  it('never writes a client secret, the signing secret or an access token to the logs', () => {
    const logs = fleet.logs();
    expect(logs).toContain('Webhook handled');
    for (const secret of [
      CLIENT_SECRET,
      ITSM.clientSecret,
      HR.clientSecret,
      'itsm-rotated-9d2f',
      GITHUB_SIGNING_SECRET,
    ]) {
      expect(logs).not.toContain(secret);
    }
    for (const message of fleet.oneio.messages) expect(logs).not.toContain(message.accessToken);
  });
});

/** The credentials secret with the default pair and `endpoints`, as an operator writes it. */
function credentialsSecret(endpoints: Record<string, { clientId: string; clientSecret: string }>): string {
  return JSON.stringify({
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    endpoints: Object.fromEntries(
      Object.entries(endpoints).map(([name, pair]) => [
        name,
        { client_id: pair.clientId, client_secret: pair.clientSecret },
      ]),
    ),
  });
}

function header(
  headers: ReadonlyArray<readonly [string, string]> | undefined,
  name: string,
): string | undefined {
  return headers?.find(([n]) => n.toLowerCase() === name)?.[1];
}

/** The last structured log line with this message. */
function lastLogLine(fleet: Fleet, message: string): Record<string, unknown> | undefined {
  const lines = fleet
    .logs()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.message === message);
  return lines.at(-1);
}

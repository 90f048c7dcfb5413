import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DESTINATION_KEY, ENV, SWEEP_EVENT, TABLE } from '../../functions/relay/contract';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import type { ReceiverRequest } from '../../infra/local/oneio-emulator';
import { createTestTable } from '../support/dynamodb';
import { lambdaContext } from '../support/lambda-context';
import {
  CLIENT_ID,
  type Fleet,
  GITHUB_SIGNING_SECRET,
  githubWebhookFor,
  startFleet,
} from '../support/relay-fleet';
import { webhookEvent } from '../support/webhook-event';

/**
 * What reaches ONEiO over a real socket, besides the body: the relay's headers, the forwarded sender headers, the
 * query string, the envelope — and that a retry from the outbox, and an operator's redrive, send all of it again
 * unchanged.
 */

const GITLAB_TOKEN = 'gitlab-token-3c8e';
const ITSM = { clientId: 'relay-itsm', clientSecret: 'itsm-secret-0a4d' };

const SOURCES = {
  github: { scheme: 'github' },
  gitlab: { scheme: 'token', query: 'token' },
  quiet: { scheme: 'unauthenticated', forwardQuery: false },
  wrapped: {
    scheme: 'unauthenticated',
    envelope: true,
    forwardHeaders: ['X-Request-Tag'],
    oneioEndpoint: 'itsm',
  },
};

/** Receiver answers the in-call budget cannot wait for, so the relay queues at once. */
const OUTAGE = { status: 503, retryAfter: 600 };

function withQuery(event: APIGatewayProxyEventV2, query: string): APIGatewayProxyEventV2 {
  return { ...event, rawQueryString: query };
}

/** The receiver requests that carried `label` in their body. */
function requestsFor(fleet: Fleet, label: string): ReceiverRequest[] {
  return fleet.oneio.receiverLog.filter((r) => r.rawBody.toString('utf8').includes(`"${label}"`));
}

function headersOf(request: ReceiverRequest | undefined): Record<string, string> {
  return Object.fromEntries((request?.headers ?? []).map(([name, value]) => [name.toLowerCase(), value]));
}

/** What must be the same on every copy of one message: URL, body, and every header but the token's. */
function sameOnEveryCopy(request: ReceiverRequest | undefined) {
  const { authorization: _token, ...headers } = headersOf(request);
  return { url: request?.url, body: request?.rawBody.toString('utf8'), headers };
}

describe('what ONEiO receives', () => {
  let fleet: Fleet;
  let outbox: DynamoDbOutbox;
  let forgetBackoff: () => Promise<unknown>;

  beforeAll(async () => {
    const { client, tableName } = await createTestTable();
    const documents = DynamoDBDocumentClient.from(client);
    outbox = new DynamoDbOutbox(documents, tableName);
    // ONEiO's Retry-After holds the whole fleet (the table's destination record); each test starts without one.
    forgetBackoff = () =>
      documents.send(
        new DeleteCommand({ TableName: tableName, Key: { [TABLE.partitionKey]: DESTINATION_KEY } }),
      );
    fleet = await startFleet({
      dynamodbEndpoint: inject('dynamodbEndpoint'),
      tableName,
      endpoints: { itsm: ITSM },
      env: { [ENV.sources]: JSON.stringify(SOURCES) },
    });
    fleet.secrets.setSecret(
      'oneio-relay/test/signing',
      JSON.stringify({ github: GITHUB_SIGNING_SECRET, gitlab: GITLAB_TOKEN }),
    );
  });

  afterEach(async () => {
    vi.useRealTimers();
    await forgetBackoff();
  });

  afterAll(() => fleet.close());

  it("GitHub's event headers, the relay's own, and the query string on the receiver URL", async () => {
    // Prepare
    const handle = await fleet.coldStart();
    const event = withQuery(
      githubWebhookFor('{"label":"github-plain","n":12345678901234567890123}'),
      'issue.key=ABC-1&project.key=OPS',
    );
    event.headers = {
      ...event.headers,
      'x-github-hook-id': '292430182',
      'x-forwarded-for': '140.82.115.1',
      cookie: 'session=abc',
    };
    const before = Date.now();

    // Act
    const response = await handle(event, lambdaContext());

    // Assess
    const [request] = requestsFor(fleet, 'github-plain');
    const headers = headersOf(request);
    expect(response?.statusCode).toBe(200);
    expect(request?.url).toBe('/api/v2?issue.key=ABC-1&project.key=OPS');
    expect(headers).toMatchObject({
      'x-relay-source': 'github',
      'x-relay-message-id': JSON.parse(response?.body ?? '{}').relayId,
      'x-relay-delivery-id': event.headers['x-github-delivery'],
      'x-github-event': 'push',
      'x-github-hook-id': '292430182',
      'content-type': 'application/json',
    });
    const receivedAt = Date.parse(headers['x-relay-received-at'] ?? '');
    expect(receivedAt).toBeGreaterThanOrEqual(before - 1);
    expect(receivedAt).toBeLessThanOrEqual(Date.now());
    for (const never of ['x-hub-signature-256', 'x-forwarded-for', 'cookie', 'x-github-delivery']) {
      expect(headers).not.toHaveProperty(never);
    }
    expect(request?.rawBody.toString('utf8')).toBe(event.body);
  });

  it('never the query parameter that carries the sender’s token', async () => {
    // Act
    const handle = await fleet.coldStart();
    const event = withQuery(
      webhookEvent('gitlab', '{"label":"gitlab"}'),
      `project=OPS&token=${GITLAB_TOKEN}&ref=main`,
    );
    const response = await handle(event, lambdaContext());

    // Assess
    const [request] = requestsFor(fleet, 'gitlab');
    expect(response?.statusCode).toBe(200);
    expect(request?.url).toBe('/api/v2?project=OPS&ref=main');
    expect(JSON.stringify(fleet.oneio.receiverLog.map((r) => [r.url, r.headers]))).not.toContain(
      GITLAB_TOKEN,
    );
  });

  it('no query string for a source that switches it off', async () => {
    // Act
    const handle = await fleet.coldStart();
    await handle(withQuery(webhookEvent('quiet', '{"label":"quiet"}'), 'issue.key=ABC-1'), lambdaContext());

    // Assess
    expect(requestsFor(fleet, 'quiet').map((r) => r.url)).toEqual(['/api/v2']);
  });

  it('the envelope around the body bytes for a source that asks for it', async () => {
    // Prepare
    const handle = await fleet.coldStart();
    const body = '{ "label": "wrapped", "id": 12345678901234567890123, "b": 1, "a": 2 }';
    const event = withQuery(
      webhookEvent('wrapped', body, { 'x-request-tag': 'blue' }),
      'project.key=OPS&tag=a&tag=b',
    );

    // Act
    const response = await handle(event, lambdaContext());

    // Assess
    const [request] = requestsFor(fleet, 'wrapped');
    const text = request?.rawBody.toString('utf8') ?? '';
    const headers = headersOf(request);
    expect(response?.statusCode).toBe(200);
    expect(text).toBe(
      `{"source":"wrapped","messageId":"${headers['x-relay-message-id']}",` +
        `"receivedAt":"${headers['x-relay-received-at']}","headers":{"x-request-tag":"blue"},` +
        `"query":{"project.key":"OPS","tag":["a","b"]},"payload":${body}}`,
    );
    expect(fleet.oneio.messages.find((m) => m.request === request)?.clientId).toBe(ITSM.clientId);
  });

  it('the same URL, headers, body and credential pair again when the outbox retries it', async () => {
    // Prepare: ONEiO down during the call
    const handle = await fleet.coldStart();
    fleet.oneio.failReceiver({ ...OUTAGE, times: 1 });
    const event = withQuery(
      webhookEvent('wrapped', '{"label":"retried"}', { 'x-request-tag': 'green' }),
      'project.key=OPS',
    );
    const response = await handle(event, lambdaContext());
    expect(response?.statusCode).toBe(202);

    // Act: a sweep, in another execution environment, once the item is due and ONEiO's Retry-After (600 s) is over
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 11 * 60_000);
    await (await fleet.coldStart())(SWEEP_EVENT, lambdaContext());

    // Assess
    const [first, retry] = requestsFor(fleet, 'retried');
    expect(requestsFor(fleet, 'retried')).toHaveLength(2);
    expect(first?.status).toBe(503);
    expect(retry?.status).toBe(200);
    expect(sameOnEveryCopy(retry)).toEqual(sameOnEveryCopy(first));
    expect(retry?.url).toBe('/api/v2?project.key=OPS');
    expect(fleet.oneio.messages.find((m) => m.request === retry)?.clientId).toBe(ITSM.clientId);
  });

  it('the same again when an operator redrives it after ONEiO refused it', async () => {
    // Prepare: ONEiO refuses the message, the relay parks it
    const handle = await fleet.coldStart();
    fleet.oneio.failReceiver({ status: 400, times: 1 });
    const event = withQuery(githubWebhookFor('{"label":"redriven"}'), 'issue.key=ABC-2');
    const response = await handle(event, lambdaContext());
    const relayId = String(JSON.parse(response?.body ?? '{}').relayId);
    expect(await outbox.get(relayId)).toMatchObject({ state: 'parked', query: 'issue.key=ABC-2' });

    // Act: an hour later the operator redrives it, and the next sweep sends it
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 3600_000);
    await outbox.redrive(relayId, Date.now());
    await handle(SWEEP_EVENT, lambdaContext());

    // Assess
    const [refused, redriven] = requestsFor(fleet, 'redriven');
    expect([refused?.status, redriven?.status]).toEqual([400, 200]);
    expect(sameOnEveryCopy(redriven)).toEqual(sameOnEveryCopy(refused));
    expect(headersOf(redriven)['x-github-event']).toBe('push');
    expect(fleet.oneio.messages.find((m) => m.request === redriven)?.clientId).toBe(CLIENT_ID);
  });
});

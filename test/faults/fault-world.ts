import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expect, inject } from 'vitest';
import type { RelayHandler } from '../../functions/relay/app';
import { ENV } from '../../functions/relay/contract';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import { createTestTable } from '../support/dynamodb';
import { lambdaContext } from '../support/lambda-context';
import {
  CLIENT_SECRET,
  type Fleet,
  GITHUB_SIGNING_SECRET,
  githubWebhookFor,
  startFleet,
} from '../support/relay-fleet';
import { webhookEvent } from '../support/webhook-event';
import { type FaultProxy, startFaultProxy } from './fault-proxy';

/** Where an accepted message ended up; `nowhere` is only acceptable when the sender was not told 2xx. */
export type Whereabouts = 'delivered' | 'queued' | 'parked' | 'nowhere';

/** A row's expected outcome: the HTTP answer to the sender and where the message is afterwards. */
export interface Expected {
  readonly http: 200 | 202 | 503;
  readonly message: Whereabouts;
}

/** The function's timeout as deployed (`infra/oneio-relay.ts`): Lambda stops an invocation still running then. */
const FUNCTION_TIMEOUT_MS = 25_000;

/** What the sender sees when the invocation outlives the function timeout: no answer from the relay at all. */
export const FUNCTION_TIMED_OUT = 'function timed out';

/**
 * One execution environment of the relay, cold, with nothing shared yet (a fresh table: no token, no de-dup
 * records), its DynamoDB reached through a fault proxy and its ONEiO and Secrets Manager emulated.
 */
export interface FaultWorld {
  readonly fleet: Fleet;
  /** In front of DynamoDB Local: the relay's only way to its table. */
  readonly dynamodb: FaultProxy;
  /** In front of the Secrets Manager emulator (`fleet.secrets`). */
  readonly secretsManager: FaultProxy;
  /**
   * In front of the ONEiO emulator's receiver, recording every exchange (headers, when it started and ended): the
   * emulator's `messages` are what ONEiO committed, these are the attempts that reached it.
   */
  readonly receiver: FaultProxy;
  /** The same table read directly, past the proxy. */
  readonly outbox: DynamoDbOutbox;
  readonly handle: RelayHandler;
  close(): Promise<void>;
}

export async function startFaultWorld(env: Readonly<Record<string, string>> = {}): Promise<FaultWorld> {
  const { client, tableName } = await createTestTable();
  const dynamodb = await startFaultProxy(inject('dynamodbEndpoint'));
  const secretsManager = await startFaultProxy();
  const receiver = await startFaultProxy(undefined, undefined, { record: true });
  const fleet = await startFleet({
    dynamodbEndpoint: dynamodb.url,
    tableName,
    env: {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.url,
      [ENV.receiverUrl]: `${receiver.url}/api/v2`,
      ...env,
    },
  });
  secretsManager.setUpstream(fleet.secrets.url);
  receiver.setUpstream(fleet.oneio.baseUrl);
  const handle = await fleet.coldStart();
  const running = new Set<Promise<unknown>>();
  return {
    fleet,
    dynamodb,
    secretsManager,
    receiver,
    outbox: new DynamoDbOutbox(DynamoDBDocumentClient.from(client), tableName),
    handle(event, context) {
      const invocation = handle(event, context);
      running.add(invocation);
      const forget = () => running.delete(invocation);
      invocation.then(forget, forget);
      return invocation;
    },
    async close() {
      // An invocation that outlived its timeout is still running: with its services gone it ends quickly, and
      // its last log lines still belong to this fleet.
      await Promise.all([dynamodb.close(), secretsManager.close(), receiver.close()]);
      await Promise.race([Promise.allSettled(running), sleep(10_000, undefined, { ref: false })]);
      try {
        // The fleet fails its close when a secret reached the logs.
        await fleet.close();
      } finally {
        client.destroy();
      }
    },
  };
}

/** What one webhook got: the answer, and where its message is now. */
export interface Delivery {
  readonly http: number | typeof FUNCTION_TIMED_OUT | undefined;
  readonly body: string;
  /** At ONEiO if any copy was committed there; else in the outbox (due or parked); else nowhere. */
  readonly message: Whereabouts;
  /** The relay id from the answer, when there was one. */
  readonly relayId: string | undefined;
  /** Its marker: every copy ONEiO committed carries it in the body. */
  readonly marker: string;
}

/**
 * Sends one webhook with a unique marker through the environment (signed for `github`, or to the unauthenticated
 * `demo` source) and finds its message: at ONEiO, in the outbox (due or parked), or nowhere.
 */
export async function sendWebhook(
  world: FaultWorld,
  source: 'github' | 'demo' = 'github',
): Promise<Delivery> {
  const marker = randomUUID();
  const body = JSON.stringify({ fault: 'matrix', marker });
  const event = source === 'github' ? githubWebhookFor(body) : webhookEvent('demo', body);
  const invocation = world.handle(event, lambdaContext(FUNCTION_TIMEOUT_MS));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<typeof FUNCTION_TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(FUNCTION_TIMED_OUT), FUNCTION_TIMEOUT_MS);
  });
  const response = await Promise.race([invocation, timedOut]).finally(() => clearTimeout(timer));
  const http: Delivery['http'] = response === FUNCTION_TIMED_OUT ? FUNCTION_TIMED_OUT : response?.statusCode;
  const answer = response === FUNCTION_TIMED_OUT ? '' : (response?.body ?? '');
  const relayId = (JSON.parse(answer || '{}') as { relayId?: unknown }).relayId;
  const delivery = { http, body: answer, marker, relayId: typeof relayId === 'string' ? relayId : undefined };
  return { ...delivery, message: await whereIs(world, delivery) };
}

/** Where a message is now: at ONEiO if any copy was committed, else in the outbox, else nowhere. */
export async function whereIs(
  world: FaultWorld,
  delivery: Pick<Delivery, 'marker' | 'relayId'>,
): Promise<Whereabouts> {
  if (copiesAtOneio(world, delivery.marker) > 0) return 'delivered';
  return outboxState(world, delivery.relayId);
}

/** How many copies of the message ONEiO committed. */
export function copiesAtOneio(world: FaultWorld, marker: string): number {
  return world.fleet.oneio.messages.filter((m) => m.body.includes(marker)).length;
}

/** The message's outbox item, if it has one: due (queued), parked, or none. */
export async function outboxState(
  world: FaultWorld,
  relayId: string | undefined,
): Promise<'queued' | 'parked' | 'nowhere'> {
  const item = relayId === undefined ? undefined : await world.outbox.get(relayId);
  if (item === undefined) return 'nowhere';
  return item.state === 'parked' ? 'parked' : 'queued';
}

/**
 * The invariants every row shares: a message the sender was told is accepted (2xx) is at ONEiO or in the outbox,
 * never acknowledged and lost; and no secret or token appears in the answer or in the logs.
 */
export function expectInvariants(world: FaultWorld, delivery: Delivery): void {
  if (typeof delivery.http === 'number' && delivery.http >= 200 && delivery.http < 300) {
    expect(delivery.message, 'an acknowledged message must be delivered or kept').not.toBe('nowhere');
  }
  const secrets = [
    CLIENT_SECRET,
    encodeURIComponent(CLIENT_SECRET),
    GITHUB_SIGNING_SECRET,
    ...world.fleet.oneio.messages.map((m) => m.accessToken),
  ];
  const leakedInAnswer = secrets.filter((s) => delivery.body.includes(s)).length;
  const logs = world.fleet.logs();
  const leakedInLogs = secrets.filter((s) => logs.includes(s)).length;
  // Counts only, so that a failure never prints the secret itself.
  expect({ leakedInAnswer, leakedInLogs }).toEqual({ leakedInAnswer: 0, leakedInLogs: 0 });
}

/** Every string field of every structured (JSON) log line the relay wrote, e.g. `error` and `lastError`. */
export function loggedStrings(world: FaultWorld): string[] {
  const strings: string[] = [];
  for (const line of world.fleet.logs().split('\n')) {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof record !== 'object' || record === null) continue;
    for (const value of Object.values(record)) if (typeof value === 'string') strings.push(value);
  }
  return strings;
}

/** A log line names the cause (`phrase` within one of its fields). */
export function expectLogged(world: FaultWorld, phrase: string): void {
  expect(loggedStrings(world)).toContainEqual(expect.stringContaining(phrase));
}

/** Rows as `[title, row]` pairs for `it.each`, so that each test reads `<fault> → <answer>, message <where>`. */
export function matrix<Row extends { readonly fault: string; readonly expected: Expected }>(
  rows: readonly Row[],
): (readonly [string, Row])[] {
  return rows.map(
    (row) => [`${row.fault} → ${row.expected.http}, message ${row.expected.message}`, row] as const,
  );
}

import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { DestinationGate } from '../../functions/relay/core/destination/destination-gate';
import { DynamoDbDestinationStore } from '../../functions/relay/io/dynamodb/destination-store';
import { CLEAR_STATE } from '../../functions/relay/ports/destination-store';
import {
  DYNAMODB_THROTTLED,
  dynamoDbRequest,
  type FaultProxy,
  type ProxyRule,
  startFaultProxy,
} from '../faults/fault-proxy';
import { createTestTable, relayDocumentClient } from '../support/dynamodb';

const KEY = 'destination#oneio-receiver';
const NOW = 1_700_000_000_000;
const POLICY = { now: NOW, threshold: 3, coolDownMs: 60_000 };

describe('DynamoDbDestinationStore (DynamoDB Local)', () => {
  let store: DynamoDbDestinationStore;
  let documents: DynamoDBDocumentClient;
  let tableName: string;

  beforeEach(async () => {
    const table = await createTestTable();
    tableName = table.tableName;
    documents = DynamoDBDocumentClient.from(table.client);
    store = new DynamoDbDestinationStore(documents, tableName);
  });

  it('reads a destination nothing was recorded for as clear', async () => {
    expect(await store.read(KEY)).toEqual(CLEAR_STATE);
  });

  it('moves notBefore only later, never back', async () => {
    const first = await store.extendNotBefore(KEY, NOW + 30_000);
    const earlier = await store.extendNotBefore(KEY, NOW + 10_000);
    const later = await store.extendNotBefore(KEY, NOW + 60_000);

    expect([first.extended, earlier.extended, later.extended]).toEqual([true, false, true]);
    expect(earlier.state.notBefore).toBe(NOW + 30_000);
    expect(await store.read(KEY)).toMatchObject({ notBefore: NOW + 60_000 });
  });

  it('counts every failure of ten instances failing at once, and opens the breaker exactly once', async () => {
    // Act: ten instances, each starting from the same (stale) view
    const results = await Promise.all(Array.from({ length: 10 }, () => store.recordFailure(KEY, POLICY)));

    // Assess
    const state = await store.read(KEY);
    expect(state.failures).toBe(10);
    expect(results.filter((r) => r.opened)).toHaveLength(1);
    expect(state.breaker).toEqual({ openedAt: NOW, openUntil: NOW + 60_000 });
  });

  it('does not open the breaker when a success elsewhere reset the count between the count and the opening', async () => {
    // Prepare: two failures counted; a client that lets another instance's success land just before the opening
    for (let i = 0; i < 2; i++) await store.recordFailure(KEY, POLICY);
    let successElsewhere: (() => Promise<unknown>) | undefined = () => store.resetFailures(KEY);
    const interleaving = new Proxy(documents, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return async (command: { input?: { UpdateExpression?: string } }) => {
          const landing = successElsewhere;
          if (landing !== undefined && command.input?.UpdateExpression?.includes('#openedAt = :openedAt')) {
            successElsewhere = undefined;
            await landing();
          }
          return target.send(command as Parameters<typeof target.send>[0]);
        };
      },
    });
    const racing = new DynamoDbDestinationStore(interleaving, tableName);

    // Act: the third failure reaches the threshold
    const result = await racing.recordFailure(KEY, POLICY);

    // Assess
    expect(successElsewhere).toBeUndefined();
    expect(result.opened).toBe(false);
    expect(await store.read(KEY)).toEqual({ notBefore: 0, failures: 0 });
  });

  it('gives no probe lease before the end of a Retry-After longer than the cool-down', async () => {
    for (let i = 0; i < 3; i++) await store.recordFailure(KEY, POLICY);
    await store.extendNotBefore(KEY, NOW + 600_000);

    const early = await store.acquireProbe(KEY, {
      owner: 'sweep-1',
      now: NOW + 60_000,
      until: NOW + 120_000,
    });
    const after = await store.acquireProbe(KEY, {
      owner: 'sweep-1',
      now: NOW + 600_000,
      until: NOW + 660_000,
    });

    expect([early, after]).toEqual([false, true]);
  });

  it('resets the count, and leaves an open breaker to its probe', async () => {
    for (let i = 0; i < 3; i++) await store.recordFailure(KEY, POLICY);

    const after = await store.resetFailures(KEY);
    const again = await store.resetFailures(KEY);

    expect(after.failures).toBe(0);
    expect(after.breaker).toEqual({ openedAt: NOW, openUntil: NOW + 60_000 });
    expect(again.failures).toBe(0);
  });

  it('gives the half-open probe to exactly one of several sweeps, only after the cool-down', async () => {
    for (let i = 0; i < 3; i++) await store.recordFailure(KEY, POLICY);
    const probe = (owner: string, now: number) =>
      store.acquireProbe(KEY, { owner, now, until: now + 60_000 });

    const tooEarly = await probe('early', NOW + 59_999);
    const racing = await Promise.all(['a', 'b', 'c', 'd'].map((owner) => probe(owner, NOW + 60_000)));
    const winner = ['a', 'b', 'c', 'd'][racing.indexOf(true)] ?? '';
    const lapsed = await probe('late', NOW + 120_001);

    expect(tooEarly).toBe(false);
    expect(racing.filter(Boolean)).toHaveLength(1);
    // The winner's lease lapsed unused: another sweep may probe.
    expect(lapsed).toBe(true);
    expect(await store.endProbe(KEY, winner, { close: true })).toBe(false);
    expect(await store.endProbe(KEY, 'late', { reopenUntil: NOW + 200_000 })).toBe(true);
    expect((await store.read(KEY)).breaker).toEqual({ openedAt: NOW, openUntil: NOW + 200_000 });
    expect(await probe('next', NOW + 200_000)).toBe(true);
    expect(await store.endProbe(KEY, 'next', { close: true })).toBe(true);
    expect(await store.read(KEY)).toEqual({ notBefore: 0, failures: 0 });
  });

  it('pauses, replaces a pause, and resumes, returning the pause it ended', async () => {
    await store.pause(KEY, { at: NOW, until: NOW + 3_600_000, by: 'alice', reason: 'maintenance' });
    await store.pause(KEY, { at: NOW + 1, by: 'bob' });
    const paused = (await store.read(KEY)).pause;
    const ended = await store.resume(KEY);
    const nothing = await store.resume(KEY);

    expect(paused).toEqual({ at: NOW + 1, by: 'bob' });
    expect(ended).toEqual({ at: NOW + 1, by: 'bob' });
    expect(nothing).toBeUndefined();
    expect((await store.read(KEY)).pause).toBeUndefined();
  });

  it('keeps the pause, the breaker and the backoff apart in one item', async () => {
    await store.pause(KEY, { at: NOW, by: 'alice' });
    await store.extendNotBefore(KEY, NOW + 30_000);
    for (let i = 0; i < 3; i++) await store.recordFailure(KEY, POLICY);
    await store.resume(KEY);

    expect(await store.read(KEY)).toEqual({
      notBefore: NOW + 30_000,
      failures: 3,
      breaker: { openedAt: NOW, openUntil: NOW + 60_000 },
    });
  });

  it('lets a gate of every instance see the one item: a warm read path, and the writes of others', async () => {
    // Two gates on one table, the second reading only when its 5 s are over.
    let now = NOW;
    const gate = (events: string[]) =>
      new DestinationGate({
        store,
        key: KEY,
        policy: { threshold: 2, coolDownMs: 60_000 },
        now: () => now,
        events: { breakerOpened: () => events.push('opened') },
      });
    const events: string[] = [];
    const [a, b] = [gate(events), gate(events)];
    await b.hold();

    await a.record({ status: 'undelivered', attempts: 1, lastError: '503', inDoubt: false });
    await a.record({ status: 'undelivered', attempts: 1, lastError: '503', inDoubt: false });
    const bStale = await b.hold();
    now += 5_000;
    const bFresh = await b.hold();

    expect(events).toEqual(['opened']);
    expect(bStale).toBeUndefined();
    expect(bFresh).toMatchObject({ reason: 'breaker', until: NOW + 60_000 });
  });
});

/**
 * The first half of DynamoDB faults: every call on the destination item fails before doing anything (throttled, and
 * the connection reset before the request reached DynamoDB). Deliveries must go on as the last known state says,
 * the store unchanged, each failure reported.
 */
describe('DestinationGate over DynamoDB when DynamoDB fails before doing anything', () => {
  let direct: DynamoDbDestinationStore;
  let proxy: FaultProxy;
  let gate: DestinationGate;
  let now: number;
  const unavailable: string[] = [];

  beforeEach(async () => {
    const { client, tableName } = await createTestTable();
    proxy = await startFaultProxy(inject('dynamodbEndpoint'));
    direct = new DynamoDbDestinationStore(DynamoDBDocumentClient.from(client), tableName);
    now = NOW;
    unavailable.length = 0;
    gate = new DestinationGate({
      store: new DynamoDbDestinationStore(relayDocumentClient(proxy.url), tableName),
      key: KEY,
      policy: { threshold: 2, coolDownMs: 60_000 },
      now: () => now,
      events: { stateUnavailable: (error) => unavailable.push(error.name) },
    });
  });

  afterEach(() => proxy.close());

  const failing =
    (answer: 'reset' | typeof DYNAMODB_THROTTLED): ProxyRule =>
    (request, body) =>
      dynamoDbRequest(request, body).pk === KEY ? answer : 'pass';

  it.each([
    ['throttled', DYNAMODB_THROTTLED],
    ['reset before it arrived', 'reset'],
  ] as const)(
    'delivers as the last known state says when every call is %s, changing nothing',
    async (_, answer) => {
      // Prepare: the breaker opened while DynamoDB worked, and this gate saw it
      for (let i = 0; i < 2; i++) {
        await gate.record({ status: 'undelivered', attempts: 1, lastError: '503', inDoubt: false });
      }
      const before = await direct.read(KEY);
      proxy.setRule(failing(answer));

      // Act: the cached state runs out; reads and writes fail
      now += 5_000;
      const held = await gate.hold();
      await gate.record({ status: 'undelivered', attempts: 1, lastError: '503', inDoubt: false });
      await gate.record({ status: 'delivered', attempts: 1 });
      now += 60_000;
      const afterCoolDown = await gate.hold();

      // Assess
      expect(held).toMatchObject({ reason: 'breaker' });
      expect(afterCoolDown).toMatchObject({ reason: 'breaker' });
      expect(proxy.faults).toBeGreaterThan(0);
      expect(unavailable.length).toBeGreaterThan(0);
      expect(await direct.read(KEY)).toEqual(before);
    },
  );

  it('delivers when it never read the state: a DynamoDB outage does not stop deliveries', async () => {
    proxy.setRule(failing('reset'));

    const held = await gate.hold();

    expect(held).toBeUndefined();
    expect(unavailable).not.toHaveLength(0);
  });
});

/**
 * The second half of DynamoDB faults: the write was applied, then its answer was lost and the SDK sent it again. Each
 * destination write must recognise its own work: a failure counted once, not twice; the breaker opened by this
 * writer reported as opened; a probe lease won, not lost to itself.
 */
describe('DynamoDbDestinationStore when a write is applied and its answer is lost', () => {
  let store: DynamoDbDestinationStore;
  let direct: DynamoDbDestinationStore;
  let proxy: FaultProxy;

  /** The first UpdateItem of the destination item is applied, then its connection reset. */
  const resetFirstUpdate = (): ProxyRule => {
    let left = 1;
    return (request, body) => {
      const r = dynamoDbRequest(request, body);
      if (left === 0 || r.operation !== 'UpdateItem' || r.pk !== KEY) return 'pass';
      left--;
      return { afterApply: 'reset' };
    };
  };

  beforeEach(async () => {
    const { client, tableName } = await createTestTable();
    proxy = await startFaultProxy(inject('dynamodbEndpoint'));
    store = new DynamoDbDestinationStore(relayDocumentClient(proxy.url), tableName);
    direct = new DynamoDbDestinationStore(DynamoDBDocumentClient.from(client), tableName);
  });

  afterEach(() => proxy.close());

  it('counts a failure once and reports the breaker it opened as opened', async () => {
    await direct.recordFailure(KEY, POLICY);
    await direct.recordFailure(KEY, POLICY);
    proxy.setRule(resetFirstUpdate());

    const result = await store.recordFailure(KEY, POLICY);

    expect(proxy.faults).toBe(1);
    expect(result).toMatchObject({ opened: true, state: { failures: 3 } });
    expect((await direct.read(KEY)).failures).toBe(3);
  });

  it('reports its own backoff as extended', async () => {
    proxy.setRule(resetFirstUpdate());

    const result = await store.extendNotBefore(KEY, NOW + 30_000);

    expect(proxy.faults).toBe(1);
    expect(result).toEqual({ extended: true, state: { notBefore: NOW + 30_000, failures: 0 } });
  });

  it('wins its own probe lease instead of losing it to itself, and closes the breaker with it', async () => {
    for (let i = 0; i < 3; i++) await direct.recordFailure(KEY, POLICY);
    proxy.setRule(resetFirstUpdate());

    const won = await store.acquireProbe(KEY, { owner: 'sweep-1', now: NOW + 60_000, until: NOW + 120_000 });
    proxy.setRule(resetFirstUpdate());
    const closed = await store.endProbe(KEY, 'sweep-1', { close: true });

    expect(proxy.faults).toBe(2);
    expect([won, closed]).toEqual([true, true]);
    expect((await direct.read(KEY)).breaker).toBeUndefined();
  });
});

import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULTS, ENV, OUTBOX_SHARDS, SWEEP_EVENT } from '../../functions/relay/contract';
import { maxInAnySecond } from '../support/arrivals';
import { lambdaContext } from '../support/lambda-context';
import { type BenchFleet, signedWebhook } from './bench-fleet';
import { fixed } from './stats';
import type { Row } from './table';

const WEBHOOKS = 10_000;
const ENVIRONMENTS = 8;
/**
 * The bench drains at the highest rate the config allows, so that 10,000 messages drain in a few sweeps; the
 * figure at the default rate is computed from the sweeps measured here (deliveries per sweep scale with the rate).
 */
const BENCH_DRAIN_RATE = 100;
/** The schedule invokes the sweep once a minute. */
const SWEEP_EVERY_MS = 60_000;
const MAX_SWEEPS = 40;

export interface OutageFigures {
  readonly webhooks: number;
  readonly environments: number;
  readonly intakeSeconds: number;
  readonly answers: Record<string, number>;
  /** Requests ONEiO got while it was down: the breaker stops them after a few failures. */
  readonly requestsWhileDown: number;
  readonly itemsPerShard: readonly number[];
  /** Sweeps until the outbox was empty, and how long they ran in all (real time). */
  readonly sweeps: number;
  readonly drainSeconds: number;
  /** What the first sweep after recovery delivered at the default rate (its probe included). */
  readonly deliveredAtDefaultRate: number;
  /** Delivered per sweep at the bench's rate, counting the sweeps that did not run out of messages. */
  readonly deliveredPerFullSweep: number;
  /** Most arrivals at ONEiO within any one second: the default-rate sweep, then the bench-rate ones. */
  readonly peakPerSecondAtDefault: number;
  readonly peakPerSecond: number;
  readonly delivered: number;
  readonly duplicated: number;
  readonly lost: number;
}

/**
 * An ONEiO outage at volume, then its recovery. 10,000 webhooks through 8 environments while ONEiO answers every
 * POST with a 503: after a few failures the breaker opens and the rest are queued (202) without a POST. Then ONEiO
 * comes back and the sweep runs on its schedule (the clock moved a minute between sweeps; each sweep itself runs in
 * real time, as in Lambda): the first probes with one message, closes the breaker and drains oldest first at the
 * drain rate, and so on until the outbox is empty. Every webhook is then looked for at ONEiO.
 */
export async function measureOutageRun(
  fleet: BenchFleet,
  progress: (line: string) => void,
): Promise<{ rows: Row[]; figures: OutageFigures }> {
  const tableName = await fleet.newTable();
  const env = { [ENV.drainRatePerSecond]: String(BENCH_DRAIN_RATE) };
  const environments = Array.from({ length: ENVIRONMENTS }, () => fleet.environment(tableName, { env }));
  const receivedBefore = fleet.oneio.messages.length;
  const requestsBefore = fleet.oneio.receiverRequests;
  const answers: { status: number; relayId?: string }[] = new Array(WEBHOOKS);

  fleet.oneio.setReceiverMode('503');
  const started = performance.now();
  let done = 0;
  try {
    await Promise.all(
      environments.map(async (environment, index) => {
        for (let i = index; i < WEBHOOKS; i += ENVIRONMENTS) {
          const response = await environment.handle(
            signedWebhook(JSON.stringify({ run: 'outage', i })),
            lambdaContext(),
          );
          const body = JSON.parse(response?.body ?? '{}') as { relayId?: unknown };
          answers[i] = {
            status: response?.statusCode ?? 0,
            ...(typeof body.relayId === 'string' && { relayId: body.relayId }),
          };
          if (++done % 2_000 === 0) progress(`  outage: ${done.toLocaleString('en')} webhooks answered`);
        }
      }),
    );
  } finally {
    fleet.oneio.setReceiverMode('normal');
  }
  const intakeSeconds = (performance.now() - started) / 1000;
  const requestsWhileDown = fleet.oneio.receiverRequests - requestsBefore;
  const itemsPerShard = await perShard(fleet, tableName);

  // Recovery: the schedule's sweeps, a minute apart on the clock, each running in real time. The first at the
  // default rate (it probes, closes the breaker, and shows what one sweep drains at that rate), the rest at the
  // bench's rate.
  const outbox = fleet.outbox(tableName);
  const atDefaultRate = fleet.environment(tableName);
  const realNow = Date.now;
  let offset = 0;
  Date.now = () => realNow() + offset;
  const delivered: number[] = [];
  const arrivals: number[][] = [];
  let drainMs = 0;
  let sweeps = 0;
  try {
    for (; sweeps < MAX_SWEEPS && (await outbox.count('due', 1)) > 0; sweeps++) {
      offset += SWEEP_EVERY_MS;
      const before = fleet.oneio.messages.length;
      const sweepStarted = performance.now();
      const environment = sweeps === 0 ? atDefaultRate : environments[sweeps % ENVIRONMENTS];
      await environment?.handle(SWEEP_EVENT, lambdaContext());
      const sent = fleet.oneio.messages.slice(before);
      drainMs += performance.now() - sweepStarted;
      delivered.push(sent.length);
      // The emulator's arrival times, on this process's (shifted) clock: within one sweep they run in real time.
      arrivals.push(sent.map((m) => m.request.receivedAt));
      progress(`  recovery: sweep ${sweeps + 1} delivered ${sent.length}`);
    }
  } finally {
    Date.now = realNow;
    await atDefaultRate.close();
  }

  const copies = new Map<number, number>();
  for (const message of fleet.oneio.messages.slice(receivedBefore)) {
    const parsed = JSON.parse(message.body) as { run?: unknown; i?: unknown };
    if (parsed.run === 'outage' && typeof parsed.i === 'number') {
      copies.set(parsed.i, (copies.get(parsed.i) ?? 0) + 1);
    }
  }
  const statusCounts: Record<string, number> = {};
  let lost = 0;
  for (const [i, answer] of answers.entries()) {
    statusCounts[answer.status] = (statusCounts[answer.status] ?? 0) + 1;
    if (answer.status >= 200 && answer.status < 300 && (copies.get(i) ?? 0) === 0) lost++;
  }
  // Sweeps at the bench's rate that found more than they could send (the last one finds the queue running out).
  const full = delivered.slice(1, -1);
  const figures: OutageFigures = {
    webhooks: WEBHOOKS,
    environments: ENVIRONMENTS,
    intakeSeconds,
    answers: statusCounts,
    requestsWhileDown,
    itemsPerShard,
    sweeps,
    drainSeconds: drainMs / 1000,
    deliveredAtDefaultRate: delivered[0] ?? 0,
    deliveredPerFullSweep: full.length === 0 ? 0 : full.reduce((a, b) => a + b, 0) / full.length,
    peakPerSecondAtDefault: maxInAnySecond(arrivals[0] ?? []),
    peakPerSecond: Math.max(0, ...arrivals.slice(1).map(maxInAnySecond)),
    delivered: copies.size,
    duplicated: [...copies.values()].filter((n) => n > 1).length,
    lost,
  };
  await Promise.all(environments.map((e) => e.close()));
  return { figures, rows: rowsOf(figures) };
}

/** Items per shard of the due queue, from the index. */
async function perShard(fleet: BenchFleet, tableName: string): Promise<number[]> {
  const client = fleet.documents;
  const counts: number[] = [];
  for (let n = 0; n < OUTBOX_SHARDS; n++) {
    let total = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: 'outbox-due-shards',
          KeyConditionExpression: 'dueShard = :shard',
          ExpressionAttributeValues: { ':shard': `due#${n}` },
          Select: 'COUNT',
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      total += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    counts.push(total);
  }
  return counts;
}

function rowsOf(f: OutageFigures): Row[] {
  const section = `Outage run: ${f.webhooks.toLocaleString('en')} webhooks, ${f.environments} environments while ONEiO answers 503 (${fixed(f.intakeSeconds, 0)} s), then recovery`;
  const answered = Object.entries(f.answers)
    .map(([status, n]) => `${status}: ${n}`)
    .join(' · ');
  const shardMin = Math.min(...f.itemsPerShard);
  const shardMax = Math.max(...f.itemsPerShard);
  const queued = f.itemsPerShard.reduce((a, b) => a + b, 0);
  const rate = DEFAULTS.drainRatePerSecond;
  return [
    { section, figure: 'Answers to senders', relay: answered },
    {
      section,
      figure: '503s answered to senders',
      relay: String(f.answers['503'] ?? 0),
      goal: '0',
      met: (f.answers['503'] ?? 0) === 0,
    },
    {
      section,
      figure: 'POSTs ONEiO got while down (the breaker opens after 5 failures in a row)',
      relay: String(f.requestsWhileDown),
      baseline: `without it ≥ ${f.webhooks.toLocaleString('en')}`,
    },
    {
      section,
      figure: 'Outbox write throttling seen',
      relay: 'n/a',
      baseline: 'DynamoDB Local never throttles: see the shard spread',
    },
    {
      section,
      figure: `Queued items per index shard (${OUTBOX_SHARDS} shards): min · max`,
      relay: `${shardMin} · ${shardMax}`,
      baseline: `${queued} queued; before, one partition held them all`,
      goal: 'none over 1.5× its share',
      met: shardMax <= (1.5 * queued) / OUTBOX_SHARDS,
    },
    {
      section,
      figure: `Drained by one sweep at the default ${rate}/s → 10,000 at that rate`,
      relay: `${f.deliveredAtDefaultRate} → ${Math.ceil(10_000 / Math.max(1, f.deliveredAtDefaultRate))} min`,
      baseline: 'a sweep a minute, < 25 s each',
    },
    {
      section,
      figure: `Time to drain this run: 1 sweep at ${rate}/s, then ${BENCH_DRAIN_RATE}/s (the bench's rate)`,
      relay: `${f.sweeps} min`,
      baseline: `${fixed(f.drainSeconds, 0)} s of sweeps; ${fixed(f.deliveredPerFullSweep, 0)} per sweep at ${BENCH_DRAIN_RATE}/s`,
    },
    {
      section,
      figure: `Peak requests/s at ONEiO vs drain rate (${rate}/s · ${BENCH_DRAIN_RATE}/s sweeps)`,
      relay: `${f.peakPerSecondAtDefault} · ${f.peakPerSecond}`,
      baseline: `${rate} · ${BENCH_DRAIN_RATE}`,
      goal: 'at most the rate',
      met: f.peakPerSecondAtDefault <= rate && f.peakPerSecond <= BENCH_DRAIN_RATE,
    },
    {
      section,
      figure: 'Delivered · duplicated at ONEiO',
      relay: `${f.delivered} · ${f.duplicated}`,
      goal: `${f.webhooks} · 0`,
      met: f.delivered === f.webhooks && f.duplicated === 0,
    },
    { section, figure: 'Lost (acknowledged, nowhere)', relay: String(f.lost), goal: '0', met: f.lost === 0 },
  ];
}

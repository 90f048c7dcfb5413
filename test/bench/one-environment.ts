/**
 * Runs in a child process on Node 24, bundled by the bench: one execution environment of the deployable bundle,
 * invoked sequentially and warm, as Lambda invokes one environment. Reports deliveries per second against direct
 * undici POSTs of the same bodies, the relay's own work per delivery (handler time minus its time waiting on
 * DynamoDB and ONEiO), and the process's peak RSS.
 *
 * argv: <function bundle> <result file> <invocations>; env: the function's variables plus BENCH_SIGNING_SECRET
 * and BENCH_ACCESS_TOKEN (a token for the direct POSTs).
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { RelayHandler } from '../../functions/relay/app';
import { ENV } from '../../functions/relay/contract';
import { lambdaContext } from '../support/lambda-context';
import { githubWebhook } from '../support/webhook-event';
import { percentile } from './stats';

const WARM_UP = 200;
const ROUNDS = 5;

/** What a recorded interval was: a whole DynamoDB SDK call, DynamoDB's request on the wire, a POST to ONEiO. */
type Kind = 'dynamodbCall' | 'dynamodbWire' | 'oneio';

/** A moment by the wall clock and by this process's CPU time (user + system), both in ms. */
interface Moment {
  readonly wall: number;
  readonly cpu: number;
}

/**
 * Takes a moment. Reading the CPU time is a system call: at an `opening` moment (a call starts, the handler ends)
 * it is read after the wall clock, at a closing one before it, so that the measurement's own cost falls inside the
 * calls or outside the handler, never into the relay's own work.
 */
function moment(opening: boolean): Moment {
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  if (opening) {
    const wall = performance.now();
    return { wall, cpu: cpu() };
  }
  const used = cpu();
  return { wall: performance.now(), cpu: used };
}

/**
 * Time spent in calls to DynamoDB and ONEiO, seen from outside the bundle (it carries its own SDK and undici)
 * through `node:diagnostics_channel`, whose named channels are shared by every copy of a module in the process:
 * - the relay's tracing channel `oneio-relay:dynamodb` for each whole SDK call (`io/dynamodb/call-tracing.ts`);
 * - Node's HTTP client channels for the same calls on the wire (node:http, which the SDK uses);
 * - undici's request channels for the POSTs to ONEiO, from the request's creation to its last byte.
 * Channel names as documented for Node 24 and undici 7. Each moment is taken by the wall clock and by the CPU time
 * of the process, so the relay's own work can be told by both: on a shared machine the wall clock also counts the
 * time other processes held the CPU.
 */
class CallClock {
  private readonly open = new Map<object, Moment>();
  private intervals: Array<{ kind: Kind; from: Moment; to: Moment }> = [];

  constructor() {
    const start = (message: object) => {
      if (!this.open.has(message)) this.open.set(message, moment(true));
    };
    const end = (kind: Kind) => (message: object) => {
      const from = this.open.get(message);
      if (from === undefined) return;
      this.open.delete(message);
      this.intervals.push({ kind, from, to: moment(false) });
    };
    const request = (handler: (message: object) => void) => (message: unknown) =>
      handler((message as { request: object }).request);
    subscribe('tracing:oneio-relay:dynamodb:start', (message) => start(message as object));
    subscribe('tracing:oneio-relay:dynamodb:asyncEnd', (message) => end('dynamodbCall')(message as object));
    subscribe('tracing:oneio-relay:dynamodb:error', (message) => end('dynamodbCall')(message as object));
    subscribe('http.client.request.created', request(start));
    subscribe('http.client.request.start', request(start));
    subscribe('http.client.response.finish', request(end('dynamodbWire')));
    subscribe('http.client.request.error', request(end('dynamodbWire')));
    subscribe('undici:request:create', request(start));
    subscribe('undici:request:trailers', request(end('oneio')));
    subscribe('undici:request:error', request(end('oneio')));
  }

  /** Starts a new measurement: forgets what was recorded. */
  reset(): void {
    this.intervals = [];
    this.open.clear();
  }

  /**
   * Wall-clock and CPU time within [from, to] during which at least one call of `kinds` was under way (calls of one
   * delivery that overlap count once). Calls run inside the handler; one reaching outside it is left out.
   */
  spent(from: Moment, to: Moment, kinds: readonly Kind[]): Moment {
    const inside = this.intervals
      .filter((i) => kinds.includes(i.kind) && i.from.wall >= from.wall && i.to.wall <= to.wall)
      .sort((a, b) => a.from.wall - b.from.wall);
    let wall = 0;
    let cpu = 0;
    let group: { from: Moment; to: Moment } | undefined;
    const close = () => {
      if (group === undefined) return;
      wall += group.to.wall - group.from.wall;
      cpu += group.to.cpu - group.from.cpu;
    };
    for (const interval of inside) {
      if (group !== undefined && interval.from.wall <= group.to.wall) {
        if (interval.to.wall > group.to.wall) group.to = interval.to;
        continue;
      }
      close();
      group = { from: interval.from, to: interval.to };
    }
    close();
    return { wall, cpu };
  }
}

async function main(): Promise<void> {
  const [bundle, resultFile, invocationsText] = process.argv.slice(2);
  const secret = process.env.BENCH_SIGNING_SECRET;
  const accessToken = process.env.BENCH_ACCESS_TOKEN;
  const receiverUrl = process.env[ENV.receiverUrl];
  if (!bundle || !resultFile || !secret || !accessToken || !receiverUrl) {
    throw new Error(
      'usage: one-environment <bundle> <result file> <invocations>, with the bench environment',
    );
  }
  const invocations = Number(invocationsText ?? 1_000);
  const calls = new CallClock();
  const { handler } = require(bundle) as { handler: RelayHandler };
  const rssAfterInitMb = process.memoryUsage().rss / 2 ** 20;

  let failures = 0;
  let serial = 0;
  const samples = {
    ownCpu: [] as number[],
    ownWall: [] as number[],
    ownWithSdkCpu: [] as number[],
    ownWithSdkWall: [] as number[],
    handlerWall: [] as number[],
    callsWall: [] as number[],
  };
  let measuring = false;
  const invoke = async () => {
    const body = JSON.stringify({ bench: 'throughput', i: serial++, padding: 'x'.repeat(512) });
    // API Gateway hands the function a finished event: building and signing it is not the relay's time.
    const event = githubWebhook(body, secret);
    const context = lambdaContext();
    calls.reset();
    const started = moment(false);
    const response = await handler(event, context);
    const ended = moment(true);
    if (response?.statusCode !== 200) failures++;
    if (!measuring) return;
    const inCalls = calls.spent(started, ended, ['dynamodbCall', 'oneio']);
    const onWire = calls.spent(started, ended, ['dynamodbWire', 'oneio']);
    samples.handlerWall.push(ended.wall - started.wall);
    samples.callsWall.push(inCalls.wall);
    samples.ownWall.push(ended.wall - started.wall - inCalls.wall);
    samples.ownCpu.push(ended.cpu - started.cpu - inCalls.cpu);
    samples.ownWithSdkWall.push(ended.wall - started.wall - onWire.wall);
    samples.ownWithSdkCpu.push(ended.cpu - started.cpu - onWire.cpu);
  };
  const direct = new Agent({ keepAliveTimeout: 30_000 });
  const post = async () => {
    const body = JSON.stringify({ bench: 'direct', i: serial++, padding: 'x'.repeat(512) });
    const response = await request(receiverUrl, {
      method: 'POST',
      dispatcher: direct,
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body,
    });
    await response.body.dump();
    if (response.statusCode !== 200) failures++;
  };

  for (let i = 0; i < WARM_UP; i++) await invoke();
  await post();
  measuring = true;
  // Alternating blocks, so a slow patch of the machine hits both sides alike.
  let relayMs = 0;
  let directMs = 0;
  const perRound = Math.ceil(invocations / ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    let started = performance.now();
    for (let i = 0; i < perRound; i++) await invoke();
    relayMs += performance.now() - started;
    started = performance.now();
    for (let i = 0; i < perRound; i++) await post();
    directMs += performance.now() - started;
  }
  const measured = perRound * ROUNDS;
  writeFileSync(
    resultFile,
    JSON.stringify({
      invocations: measured,
      failures,
      relayPerSecond: (measured * 1000) / relayMs,
      directPerSecond: (measured * 1000) / directMs,
      rssAfterInitMb,
      ...Object.fromEntries(
        Object.entries(samples).map(([name, values]) => [
          `${name}Ms`,
          { median: percentile(values, 50), p99: percentile(values, 99) },
        ]),
      ),
      // maxRSS is in kilobytes.
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);

import { Agent, request } from 'undici';
import { lambdaContext } from '../support/lambda-context';
import { type BenchFleet, type CallKind, signedWebhook, snapshot } from './bench-fleet';
import { fixed, median, percentile, times } from './stats';
import type { Row } from './table';

const WARM_UP = 300;
const SAMPLES = 2_000;
const OVERHEAD_GOAL = 1.15;

export interface WarmFigures {
  readonly samples: number;
  /** Per warm delivery. */
  readonly dynamodbCalls: Record<CallKind, number>;
  readonly dynamodbMs: Record<CallKind, number>;
  readonly secretsManagerCalls: number;
  readonly tokenRequests: number;
  readonly relayMs: { readonly median: number; readonly p99: number };
  readonly directMs: { readonly median: number; readonly p99: number };
  /** How long the samples took, s: the destination state is read once per instance per 5 s at most. */
  readonly seconds: number;
  /** DynamoDB reads of the destination state during the samples (not per delivery). */
  readonly destinationReads: number;
}

/**
 * One warm environment against a direct keep-alive undici POST of the same body to the same receiver, alternating
 * one of each so both see the same machine noise. The relay's figure is a whole invocation: signature check, body
 * validation, de-duplication, token, POST, logs and metrics.
 */
export async function measureWarmOverhead(
  fleet: BenchFleet,
  progress: (line: string) => void,
): Promise<{ rows: Row[]; figures: WarmFigures }> {
  const environment = fleet.environment(await fleet.newTable());
  for (let i = 0; i < WARM_UP; i++) {
    await environment.handle(signedWebhook(JSON.stringify({ bench: 'warm-up', i })), lambdaContext());
  }
  const accessToken = fleet.oneio.messages.at(-1)?.accessToken;
  if (accessToken === undefined) throw new Error('the warm-up delivered nothing');
  const direct = new Agent({ keepAliveTimeout: 30_000 });
  const post = async (body: string): Promise<number> => {
    const response = await request(fleet.oneio.receiverUrl, {
      method: 'POST',
      dispatcher: direct,
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body,
    });
    await response.body.dump();
    return response.statusCode;
  };
  await post('{"bench":"direct-warm-up"}');

  const dynamoBefore = snapshot(environment.dynamo);
  const secretsBefore = fleet.secrets.calls.GetSecretValue ?? 0;
  const tokensBefore = fleet.oneio.tokenRequests.count;
  const relayMs: number[] = [];
  const directMs: number[] = [];
  let failures = 0;
  const sampling = performance.now();
  for (let i = 0; i < SAMPLES; i++) {
    const body = JSON.stringify({ bench: 'warm', i, padding: 'x'.repeat(512) });
    // API Gateway hands the function a finished event: building and signing it is not the relay's time.
    const event = signedWebhook(body);
    const context = lambdaContext();
    const runRelay = async () => {
      const started = performance.now();
      const response = await environment.handle(event, context);
      relayMs.push(performance.now() - started);
      if (response?.statusCode !== 200) failures++;
    };
    const runDirect = async () => {
      const started = performance.now();
      const status = await post(body);
      directMs.push(performance.now() - started);
      if (status !== 200) failures++;
    };
    if (i % 2 === 0) {
      await runRelay();
      await runDirect();
    } else {
      await runDirect();
      await runRelay();
    }
  }
  const seconds = (performance.now() - sampling) / 1000;
  await direct.close();
  await environment.close();
  if (failures > 0) throw new Error(`${failures} warm deliveries or direct POSTs failed`);

  const per = (n: number) => n / SAMPLES;
  const kinds = ['token', 'dedup', 'outbox', 'destination', 'other'] as const;
  const figures: WarmFigures = {
    samples: SAMPLES,
    dynamodbCalls: Object.fromEntries(
      kinds.map((k) => [k, per(environment.dynamo.count[k] - dynamoBefore.count[k])]),
    ) as Record<CallKind, number>,
    dynamodbMs: Object.fromEntries(
      kinds.map((k) => [k, per(environment.dynamo.ms[k] - dynamoBefore.ms[k])]),
    ) as Record<CallKind, number>,
    secretsManagerCalls: per((fleet.secrets.calls.GetSecretValue ?? 0) - secretsBefore),
    tokenRequests: per(fleet.oneio.tokenRequests.count - tokensBefore),
    relayMs: { median: median(relayMs), p99: percentile(relayMs, 99) },
    directMs: { median: median(directMs), p99: percentile(directMs, 99) },
    seconds,
    destinationReads: environment.dynamo.count.destination - dynamoBefore.count.destination,
  };
  progress(
    `  warm: relay median ${fixed(figures.relayMs.median)} ms, direct ${fixed(figures.directMs.median)} ms`,
  );

  const section = `Per warm delivery (${SAMPLES.toLocaleString('en')} samples, github source, 0.5 KB body)`;
  const medianRatio = figures.relayMs.median / figures.directMs.median;
  const p99Ratio = figures.relayMs.p99 / figures.directMs.p99;
  const added = figures.relayMs.median - figures.directMs.median;
  const rows: Row[] = [
    {
      section,
      figure: 'DynamoDB calls for the token',
      relay: fixed(figures.dynamodbCalls.token),
      goal: '0',
      met: figures.dynamodbCalls.token === 0,
    },
    {
      section,
      // The state is cached for 5 s: a warm delivery reads it only when its copy is older than that.
      figure: 'DynamoDB calls for pause, backoff and breaker',
      relay: fixed(figures.dynamodbCalls.destination, 4),
      baseline: `${figures.destinationReads} reads in ${fixed(figures.seconds, 0)} s; ${SAMPLES - figures.destinationReads} of ${SAMPLES} made none`,
      goal: '0 while cached (5 s)',
      met: figures.destinationReads <= Math.ceil(figures.seconds / 5) + 1,
    },
    {
      section,
      figure: 'DynamoDB calls for de-duplication',
      relay: fixed(figures.dynamodbCalls.dedup),
      baseline: `outbox ${fixed(figures.dynamodbCalls.outbox)} · other ${fixed(figures.dynamodbCalls.other)}`,
    },
    {
      section,
      figure: 'Secrets Manager calls · token requests',
      relay: `${fixed(figures.secretsManagerCalls)} · ${fixed(figures.tokenRequests)}`,
      goal: '0 · 0',
      met: figures.secretsManagerCalls === 0 && figures.tokenRequests === 0,
    },
    {
      section,
      figure: 'Latency median vs direct undici POST (ms)',
      relay: fixed(figures.relayMs.median),
      baseline: fixed(figures.directMs.median),
      ratio: times(medianRatio),
      goal: `≤ ${OVERHEAD_GOAL}×`,
      met: medianRatio <= OVERHEAD_GOAL,
    },
    {
      section,
      figure: 'Latency p99 vs direct undici POST (ms)',
      relay: fixed(figures.relayMs.p99),
      baseline: fixed(figures.directMs.p99),
      ratio: times(p99Ratio),
      goal: `≤ ${OVERHEAD_GOAL}×`,
      met: p99Ratio <= OVERHEAD_GOAL,
    },
    {
      section,
      figure: 'Added median latency · mean in de-dup SDK calls (ms)',
      relay: fixed(added),
      baseline: `${fixed(figures.dynamodbMs.dedup)} in de-dup`,
      ratio: `${fixed((100 * figures.dynamodbMs.dedup) / added, 0)} %`,
    },
    {
      section,
      figure: 'Receiver latency from which the median meets the goal (ms)',
      relay: `≥ ${fixed(added / (OVERHEAD_GOAL - 1), 0)}`,
      baseline: `local receiver ${fixed(figures.directMs.median)}`,
    },
  ];
  return { rows, figures };
}

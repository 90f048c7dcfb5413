/**
 * Runs in a child process on Node 24, bundled by the bench: one execution environment of the deployable bundle,
 * invoked sequentially and warm, as Lambda invokes one environment. Reports deliveries per second against direct
 * undici POSTs of the same bodies, and the process's peak RSS.
 *
 * argv: <function bundle> <result file> <invocations>; env: the function's variables plus BENCH_SIGNING_SECRET
 * and BENCH_ACCESS_TOKEN (a token for the direct POSTs).
 */
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { RelayHandler } from '../../functions/relay/app';
import { ENV } from '../../functions/relay/contract';
import { lambdaContext } from '../support/lambda-context';
import { githubWebhook } from '../support/webhook-event';

const WARM_UP = 200;
const ROUNDS = 5;

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
  const { handler } = require(bundle) as { handler: RelayHandler };
  const rssAfterInitMb = process.memoryUsage().rss / 2 ** 20;

  let failures = 0;
  let serial = 0;
  const invoke = async () => {
    const body = JSON.stringify({ bench: 'throughput', i: serial++, padding: 'x'.repeat(512) });
    const response = await handler(githubWebhook(body, secret), lambdaContext());
    if (response?.statusCode !== 200) failures++;
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

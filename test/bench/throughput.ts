import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { request } from 'undici';
import { type BenchFleet, CLIENT_ID, CLIENT_SECRET, SIGNING_SECRET } from './bench-fleet';
import { fixed, times } from './stats';
import type { Row } from './table';

const INVOCATIONS = 2_000;
const CHILD_TIMEOUT_MS = 120_000;

interface Percentiles {
  readonly median: number;
  readonly p99: number;
}

export interface ThroughputFigures {
  readonly invocations: number;
  readonly failures: number;
  readonly relayPerSecond: number;
  readonly directPerSecond: number;
  readonly rssAfterInitMb: number;
  readonly peakRssMb: number;
  /**
   * Per warm delivery, median and p99: the relay's own work (the handler minus its time in DynamoDB SDK calls and
   * POSTs to ONEiO) by CPU time and by the wall clock; the same with only the requests on the wire counted as calls
   * (the SDK's marshalling, signing and parsing then count as the relay's work); the handler's and the calls' time.
   */
  readonly ownCpuMs: Percentiles;
  readonly ownWallMs: Percentiles;
  readonly ownWithSdkCpuMs: Percentiles;
  readonly ownWithSdkWallMs: Percentiles;
  readonly handlerWallMs: Percentiles;
  readonly callsWallMs: Percentiles;
}

/** A token straight from the emulator, for the child's direct POSTs. */
async function issueToken(tokenUrl: string): Promise<string> {
  const response = await request(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    }).toString(),
  });
  const answer = (await response.body.json()) as { access_token?: unknown };
  if (typeof answer.access_token !== 'string') throw new Error('the emulator issued no token');
  return answer.access_token;
}

/**
 * One execution environment of the deployable bundle in its own Node 24 process (`one-environment.ts`): warm,
 * sequential deliveries per second against direct POSTs, and its peak RSS, against the fleet's local services.
 */
export async function measureThroughput(
  fleet: BenchFleet,
  node: string,
  functionBundle: string,
  workdir: string,
  progress: (line: string) => void,
): Promise<{ rows: Row[]; figures: ThroughputFigures }> {
  const child = path.join(workdir, 'one-environment', 'index.js');
  await build({
    entryPoints: [path.join(__dirname, 'one-environment.ts')],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    outfile: child,
    logLevel: 'error',
  });
  const resultFile = path.join(workdir, 'one-environment.json');
  const tableName = await fleet.newTable();
  const running = spawn(node, [child, functionBundle, resultFile, String(INVOCATIONS)], {
    cwd: path.dirname(functionBundle),
    env: {
      ...fleet.awsEnv,
      ...fleet.functionEnv(tableName),
      NODE_OPTIONS: '--enable-source-maps',
      BENCH_SIGNING_SECRET: SIGNING_SECRET,
      BENCH_ACCESS_TOKEN: await issueToken(fleet.oneio.tokenUrl),
    },
    // The function's logs go where Lambda's would go: out of the way.
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: CHILD_TIMEOUT_MS,
  });
  let stderr = '';
  running.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const [code] = (await once(running, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the one-environment child failed (${code}): ${stderr}`);
  const figures = JSON.parse(readFileSync(resultFile, 'utf8')) as ThroughputFigures;
  if (figures.failures > 0) throw new Error(`${figures.failures} throughput invocations failed`);
  progress(
    `  throughput: ${fixed(figures.relayPerSecond, 0)}/s, own work ${fixed(figures.ownCpuMs.median)} ms of CPU (median), peak RSS ${fixed(figures.peakRssMb, 0)} MB`,
  );

  const section = `One execution environment, deployable bundle on Node 24, ${figures.invocations.toLocaleString('en')} warm sequential invocations`;
  return {
    figures,
    rows: [
      {
        section,
        figure: 'Deliveries per second vs direct POSTs per second',
        relay: fixed(figures.relayPerSecond, 0),
        baseline: fixed(figures.directPerSecond, 0),
        ratio: times(figures.relayPerSecond / figures.directPerSecond),
      },
      {
        section,
        figure: "Relay's own work per delivery: handler − DynamoDB and ONEiO calls, median · p99 (ms of CPU)",
        relay: `${fixed(figures.ownCpuMs.median)} · ${fixed(figures.ownCpuMs.p99)}`,
        baseline: `wall clock ${fixed(figures.ownWallMs.median)} · ${fixed(figures.ownWallMs.p99)}; handler ${fixed(figures.handlerWallMs.median)}, calls ${fixed(figures.callsWallMs.median)}`,
        goal: '≤ 0.5 · ≤ 2',
        met: figures.ownCpuMs.median <= 0.5 && figures.ownCpuMs.p99 <= 2,
      },
      {
        section,
        figure: '… counting the AWS SDK’s own work too (only the wire as I/O), median · p99 (ms of CPU)',
        relay: `${fixed(figures.ownWithSdkCpuMs.median)} · ${fixed(figures.ownWithSdkCpuMs.p99)}`,
        baseline: `wall clock ${fixed(figures.ownWithSdkWallMs.median)} · ${fixed(figures.ownWithSdkWallMs.p99)}; two DynamoDB calls per delivery`,
      },
      {
        section,
        figure: 'Peak RSS (MB) · RSS after init',
        relay: fixed(figures.peakRssMb, 0),
        baseline: `${fixed(figures.rssAfterInitMb, 0)} after init`,
        goal: '< 512 (function memory)',
        met: figures.peakRssMb < 512,
      },
    ],
  };
}

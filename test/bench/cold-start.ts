import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { ENV } from '../../functions/relay/contract';
import { fixed, median, times } from './stats';
import type { Row } from './table';

const ROOT = path.join(__dirname, '..', '..');
const RUNS = 21;
const IMPORT_GOAL = 1.1;

/**
 * Bundles `entry` as the CDK's NodejsFunction does for this function (`infra/oneio-relay.ts`): esbuild, platform
 * node, target node24, CommonJS, minified, a linked source map without sources content, ES module builds
 * preferred (`mainFields`), the AWS SDK inside.
 */
export async function bundleLikeCdk(entry: string, outdir: string): Promise<string> {
  const outfile = path.join(outdir, 'index.js');
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    outfile,
    logLevel: 'error',
  });
  return outfile;
}

/** What Lambda would set for the function; the values only have to pass the function's config checks. */
export function placeholderFunctionEnv(): Record<string, string> {
  return {
    AWS_REGION: 'eu-west-1',
    [ENV.tokenUrl]: 'https://receiver-authz-test.service-flow.com/oauth2/token',
    [ENV.receiverUrl]: 'https://rest-receiver-test.service-flow.com/api/v2',
    [ENV.credentialsSecretId]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:RelayCredentials-AbCdEf',
    [ENV.signingSecretsSecretId]: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:RelaySigning-AbCdEf',
    [ENV.tableName]: 'OneioRelay-qa-RelayStoreTable-ABC123',
    [ENV.sources]: JSON.stringify({ github: { scheme: 'github' } }),
    POWERTOOLS_SERVICE_NAME: 'oneio-relay',
    POWERTOOLS_METRICS_NAMESPACE: 'OneioRelay',
  };
}

const TIME_REQUIRE =
  'const t=process.hrtime.bigint();require(process.argv[1]);' +
  'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';

/** `require()` of a bundle in a fresh Node process, in ms, run from the bundle's folder as Lambda does. */
function timeRequire(node: string, file: string, nodeOptions: string): number {
  const child = spawnSync(node, ['-e', TIME_REQUIRE, file], {
    cwd: path.dirname(file),
    env: { ...placeholderFunctionEnv(), LAMBDA_TASK_ROOT: path.dirname(file), NODE_OPTIONS: nodeOptions },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (child.status !== 0 || child.stderr !== '') {
    throw new Error(`require(${file}) failed in ${node}: ${child.stderr || child.status}`);
  }
  return Number(child.stdout);
}

export interface ColdStartFigures {
  readonly node: string;
  readonly runs: number;
  readonly functionBytes: number;
  readonly dependenciesBytes: number;
  /** Medians in ms; `deployed` runs with NODE_OPTIONS=--enable-source-maps, as the stack sets it. */
  readonly importMs: {
    readonly deployed: { readonly fn: number; readonly deps: number };
    readonly noSourceMaps: { readonly fn: number; readonly deps: number };
  };
}

/**
 * Bundle size and import time of the function against a bundle of only its dependencies, both built the same way
 * and timed alternately in fresh Node 24 processes (median of {@link RUNS} each).
 */
export async function measureColdStart(
  node: string,
  workdir: string,
  progress: (line: string) => void,
): Promise<{ rows: Row[]; figures: ColdStartFigures; functionBundle: string }> {
  const functionBundle = await bundleLikeCdk(
    path.join(ROOT, 'functions', 'relay', 'handler.ts'),
    path.join(workdir, 'function'),
  );
  const dependenciesBundle = await bundleLikeCdk(
    path.join(__dirname, 'dependencies-only.ts'),
    path.join(workdir, 'dependencies'),
  );
  const samples = {
    deployed: { fn: [] as number[], deps: [] as number[] },
    noSourceMaps: { fn: [] as number[], deps: [] as number[] },
  };
  // One throw-away run each: the first start after a build also pays for the page cache.
  timeRequire(node, functionBundle, '');
  timeRequire(node, dependenciesBundle, '');
  for (let run = 0; run < RUNS; run++) {
    for (const [mode, options] of [
      ['deployed', '--enable-source-maps'],
      ['noSourceMaps', ''],
    ] as const) {
      const pair = [
        () => samples[mode].fn.push(timeRequire(node, functionBundle, options)),
        () => samples[mode].deps.push(timeRequire(node, dependenciesBundle, options)),
      ];
      for (const measure of run % 2 === 0 ? pair : pair.reverse()) measure();
    }
  }
  const figures: ColdStartFigures = {
    node: spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim(),
    runs: RUNS,
    functionBytes: statSync(functionBundle).size,
    dependenciesBytes: statSync(dependenciesBundle).size,
    importMs: {
      deployed: { fn: median(samples.deployed.fn), deps: median(samples.deployed.deps) },
      noSourceMaps: { fn: median(samples.noSourceMaps.fn), deps: median(samples.noSourceMaps.deps) },
    },
  };
  progress(
    `  cold start: import ${fixed(figures.importMs.deployed.fn)} ms vs deps ${fixed(figures.importMs.deployed.deps)} ms`,
  );

  const section = `Cold start: bundle built like the CDK, require() in Node ${figures.node}, median of ${RUNS}`;
  const kb = (bytes: number) => `${fixed(bytes / 1024, 0)} KB`;
  const deployedRatio = figures.importMs.deployed.fn / figures.importMs.deployed.deps;
  const plainRatio = figures.importMs.noSourceMaps.fn / figures.importMs.noSourceMaps.deps;
  const rows: Row[] = [
    {
      section,
      figure: 'Bundle size vs dependencies only',
      relay: kb(figures.functionBytes),
      baseline: kb(figures.dependenciesBytes),
      ratio: times(figures.functionBytes / figures.dependenciesBytes),
    },
    {
      section,
      figure: 'Import time, --enable-source-maps as deployed (ms)',
      relay: fixed(figures.importMs.deployed.fn),
      baseline: fixed(figures.importMs.deployed.deps),
      ratio: times(deployedRatio),
      goal: `≤ ${IMPORT_GOAL}×`,
      met: deployedRatio <= IMPORT_GOAL,
    },
    {
      section,
      figure: 'Import time, no NODE_OPTIONS (ms)',
      relay: fixed(figures.importMs.noSourceMaps.fn),
      baseline: fixed(figures.importMs.noSourceMaps.deps),
      ratio: times(plainRatio),
      goal: `≤ ${IMPORT_GOAL}×`,
      met: plainRatio <= IMPORT_GOAL,
    },
  ];
  return { rows, figures, functionBundle };
}

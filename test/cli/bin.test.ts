import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'infra', 'cli', 'oneio-relay.cjs');

/** The package's `bin` entry as npx runs it: a CommonJS shim that loads the TypeScript CLI through tsx. */
describe('the oneio-relay executable', () => {
  async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await promisify(execFile)(BIN, args, { cwd: ROOT });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  it('prints its help and exits 0', async () => {
    const result = await run(['--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: oneio-relay <command> [options]');
    // The SDK's Node 20 notice would bury the output of every command.
    expect(result.stderr).toBe('');
  });

  it('exits 2 for a wrong command line, with the reason on stderr', async () => {
    const result = await run(['outbox', 'list']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Say which outbox');
  });
});

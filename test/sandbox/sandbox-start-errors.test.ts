import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { descendantsOf, isRunning, spawnSandbox } from './sandbox-process';

/** A sandbox that cannot start says why and which flag helps, exits 1, and leaves no process behind. */
describe('oneio-relay sandbox start failures', () => {
  let occupied: Server;
  let occupiedPort: number;
  const state = {
    ONEIO_RELAY_SANDBOX_STATE: path.join(tmpdir(), `oneio-relay-sandbox-errors-${process.pid}.json`),
  };

  beforeAll(async () => {
    occupied = createServer().listen(0);
    await once(occupied, 'listening');
    occupiedPort = (occupied.address() as { port: number }).port;
  });

  afterAll(() => {
    occupied.close();
  });

  async function failedStart(args: string[], env: Record<string, string | undefined> = {}) {
    const sandbox = spawnSandbox(args, { ...state, ...env });
    let spawned: number[] = [];
    const watch = setInterval(() => {
      spawned = [...new Set([...spawned, ...descendantsOf(sandbox.child.pid ?? -1)])];
    }, 50);
    const { code } = await sandbox.exited;
    clearInterval(watch);
    return { code, stdout: sandbox.stdout(), stderr: sandbox.stderr(), left: spawned.filter(isRunning) };
  }

  it('names --port when the requested HTTP port is taken', async () => {
    const result = await failedStart(['--port', String(occupiedPort)]);

    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: Port ${occupiedPort} is already in use; choose another with --port <port> (--port 0 picks a free one)\n`,
    );
    expect(result.left).toEqual([]);
  });

  it('names --dynamodb-port when the DynamoDB Local port is taken', async () => {
    const result = await failedStart(['--port', '0', '--dynamodb-port', String(occupiedPort)]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Port ${occupiedPort} is already in use; choose another with --dynamodb-port`,
    );
    expect(result.left).toEqual([]);
  });

  it('says that Java is missing and how to do without it', async () => {
    const result = await failedStart(['--port', '0'], { PATH: '/nonexistent/bin' });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'DynamoDB Local needs Java 17 or later, but no `java` command was found on PATH',
    );
    expect(result.stderr).toContain('--dynamodb-endpoint');
    expect(result.left).toEqual([]);
  });

  it('asks for the QA credentials before starting anything', async () => {
    const result = await failedStart(['--oneio', 'qa'], {
      ONEIO_CLIENT_ID: undefined,
      ONEIO_CLIENT_SECRET: undefined,
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      '--oneio qa needs the QA endpoint credentials in ONEIO_CLIENT_ID and ONEIO_CLIENT_SECRET',
    );
    expect(result.stdout).toBe('');
  });
});

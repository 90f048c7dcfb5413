import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

/** What a running sandbox tells other commands (`outbox --sandbox`, `sandbox event`) about itself. */
export interface SandboxState {
  readonly pid: number;
  /** Base URL of the local endpoint, e.g. `http://127.0.0.1:3000`. */
  readonly url: string;
  readonly dynamodbEndpoint: string;
  readonly tableName: string;
  /** Key of the fleet's shared token item in that table (`status --sandbox` reads its expiry, never the token). */
  readonly tokenKey?: string;
}

/** `.sandbox/state.json` at the repository root (git-ignored), or the file `ONEIO_RELAY_SANDBOX_STATE` names. */
export function sandboxStatePath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.ONEIO_RELAY_SANDBOX_STATE ?? path.join(__dirname, '..', '..', '.sandbox', 'state.json');
}

export function writeSandboxState(file: string, state: SandboxState): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
}

/** Removes the file if it still describes this process (a newer sandbox may have replaced it). */
export function removeSandboxState(file: string, pid = process.pid): void {
  if (readSandboxState(file)?.pid === pid) rmSync(file, { force: true });
}

/** The running sandbox's state, or undefined when there is none (no file, or its process is gone). */
export function readSandboxState(file: string): SandboxState | undefined {
  let state: SandboxState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as SandboxState;
  } catch {
    return undefined;
  }
  return typeof state.pid === 'number' && isAlive(state.pid) ? state : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

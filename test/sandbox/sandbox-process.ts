import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'infra', 'cli', 'oneio-relay.cjs');

/** `oneio-relay sandbox` as a child process, as `npm start` runs it, with its output collected. */
export interface SandboxProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout; rejects on timeout or exit, with the output so far. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/**
 * The sandboxes of one test file: a temporary folder for their state files, and the sandbox each test started
 * stopped with Ctrl-C after it, so that a failed test leaves no sandbox (and no Java) behind. Call at describe level.
 */
export function sandboxesOfThisFile(prefix: string): {
  dir(): string;
  spawn(args: string[], env?: Record<string, string | undefined>): SandboxProcess;
} {
  let dir = '';
  let running: SandboxProcess | undefined;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), prefix));
  });
  afterEach(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) {
      running.child.kill('SIGINT');
      await running.exited;
    }
    running = undefined;
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir: () => dir,
    spawn: (args, env) => {
      running = spawnSandbox(args, env);
      return running;
    },
  };
}

export function spawnSandbox(args: string[], env: Record<string, string | undefined> = {}): SandboxProcess {
  const child = spawn(process.execPath, [BIN, 'sandbox', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const listener of listeners) listener();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = once(child, 'exit').then(([code, signal]) => {
    for (const listener of listeners) listener();
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });

  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    waitFor(pattern, timeoutMs = 25_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(stdout);
          if (match !== null) return done(() => resolve(match));
          if (child.exitCode !== null || child.signalCode !== null) {
            done(() =>
              reject(new Error(`The sandbox exited before printing ${pattern}\n${stdout}\n${stderr}`)),
            );
          }
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`No ${pattern} within ${timeoutMs} ms\n${stdout}\n${stderr}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Every process below `pid`, from /proc (Linux): Java and its watchdog for the sandbox. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const parent = parentOf(Number(entry));
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Whether `pid` is a live process (a zombie waiting to be reaped does not count). */
export function isRunning(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function parentOf(pid: number): number | undefined {
  const ppid = statFields(pid)?.[1];
  return ppid === undefined ? undefined : Number(ppid);
}

/** The fields of /proc/<pid>/stat after the command name (which may itself contain spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

import { createInterface } from 'node:readline';
import type { CliIo } from './cli-io';

/** Asks a yes/no question on the terminal; only `y` or `yes` counts as yes. */
export async function confirm(io: CliIo, question: string): Promise<boolean> {
  io.out(`${question} [y/N] `);
  const lines = createInterface({ input: io.stdin, terminal: false });
  try {
    for await (const line of lines) return /^y(es)?$/i.test(line.trim());
    return false;
  } finally {
    lines.close();
  }
}

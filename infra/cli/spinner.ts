import type { CliIo } from './cli-io';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 80;

/**
 * Runs `work` with a spinner and `label` on the terminal, erased when the work ends. Without a terminal (pipes,
 * CI, tests) nothing is drawn, so captured output holds only results.
 */
export async function withSpinner<T>(io: CliIo, label: string, work: () => Promise<T>): Promise<T> {
  if (!io.stdoutIsTTY) return work();
  let frame = 0;
  const draw = () => {
    io.out(`\r\x1b[2K${FRAMES[frame % FRAMES.length]} ${label}`);
    frame += 1;
  };
  draw();
  const timer = setInterval(draw, FRAME_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    io.out('\r\x1b[2K');
  }
}

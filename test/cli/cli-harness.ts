import { Readable } from 'node:stream';
import { vi } from 'vitest';
import { capturingIo } from '../../infra/cli/cli-io';
import { main } from '../../infra/cli/main';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface RunOptions {
  /** What a person types on standard input. */
  readonly stdin?: string;
  /** Whether standard input is a terminal (purge asks only then). */
  readonly stdinIsTTY?: boolean;
  /** Variables the CLI reads itself (ONEIO_RELAY_SANDBOX_STATE, …). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Runs one command line in this process, capturing what a terminal would show. */
export async function runCli(argv: string[], options: RunOptions = {}): Promise<CliRun> {
  const { io, printed } = capturingIo(Readable.from(options.stdin === undefined ? [] : [options.stdin]), {
    stdinIsTTY: options.stdinIsTTY ?? false,
    env: options.env ?? {},
  });
  const code = await main(argv, io);
  return { code, ...printed() };
}

/**
 * Makes the AWS SDK's default chain see `variables` and nothing of this machine: no shared config files, no
 * instance metadata, no leftover credentials. Undo with `vi.unstubAllEnvs()`.
 */
export function stubAwsEnvironment(variables: Readonly<Record<string, string | undefined>>): void {
  const isolated: Record<string, string | undefined> = {
    AWS_PROFILE: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_ENDPOINT_URL: undefined,
    AWS_CONFIG_FILE: '/nonexistent/oneio-relay-test/config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/oneio-relay-test/credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    AWS_MAX_ATTEMPTS: '1',
    ...variables,
  };
  for (const [name, value] of Object.entries(isolated)) vi.stubEnv(name, value);
}

/** Local stand-in credentials and region, as for any emulator. */
export const LOCAL_AWS = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
} as const;

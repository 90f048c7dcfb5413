import { parseArgs } from 'node:util';
import { qa } from '../config';
import { sandboxBanner } from '../sandbox/banner';
import { PortTakenError } from '../sandbox/ports';
import { type Sandbox, type SandboxOneio, startSandbox } from '../sandbox/sandbox';
import { removeSandboxState, sandboxStatePath, writeSandboxState } from '../sandbox/sandbox-state';
import { CliError, usageError } from './cli-error';
import type { CliIo } from './cli-io';
import { SANDBOX_EVENT_HELP, sandboxEvent } from './sandbox-event';

export const SANDBOX_HELP = `Usage: oneio-relay sandbox [options]        (what \`npm start\` runs)
       oneio-relay sandbox event [options]  (see \`oneio-relay sandbox event --help\`)

Runs the relay on this machine as deployed: DynamoDB Local (Java 17) with the relay table, a Secrets Manager
emulator with sample secrets, a ONEiO emulator, and an HTTP endpoint for POST /webhooks/{source} that invokes the
function's handler like API Gateway and Lambda do. Its page at http://127.0.0.1:<port>/ shows every request next
to what ONEiO received, the token, the outbox, and sends signed samples. Ctrl-C stops it all.

Options:
  --port <n>                 HTTP port (default 3000; when 3000 is taken a free one is used; 0 = any free port)
  --oneio <local|qa>         local: the ONEiO emulator (default); qa: real ONEiO QA with ONEIO_CLIENT_ID and
                             ONEIO_CLIENT_SECRET from the environment
  --token-url <url>          with --oneio qa: a different token endpoint
  --receiver-url <url>       with --oneio qa: a different REST receiver
  --dynamodb-port <n>        port for DynamoDB Local (default: a free one)
  --dynamodb-endpoint <url>  use a DynamoDB Local that is already running instead of starting one
  --table <name>             relay table name (default oneio-relay-sandbox)
  --concurrency <n>          most execution environments at once (default 10)
  --sweep-interval <s>       seconds between outbox sweeps (default 60, as deployed)
  --log-level <level>        function log level: DEBUG, INFO (default), WARN, ERROR, SILENT
  --json-logs                print the function's JSON log lines as Lambda writes them (and every message the
                             emulator receives) instead of one readable line per request
  -h, --help                 show this help
`;

/** Stops the sandbox on the first Ctrl-C; a second one exits at once (Java is still killed on exit). */
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** `oneio-relay sandbox`: start, print how to use it, run until Ctrl-C, stop everything. */
export async function sandbox(args: string[], io: CliIo): Promise<number> {
  if (args[0] === 'event') return sandboxEvent(args.slice(1), io);
  const { values, positionals } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      oneio: { type: 'string', default: 'local' },
      'token-url': { type: 'string' },
      'receiver-url': { type: 'string' },
      'dynamodb-port': { type: 'string' },
      'dynamodb-endpoint': { type: 'string' },
      table: { type: 'string', default: 'oneio-relay-sandbox' },
      concurrency: { type: 'string', default: '10' },
      'sweep-interval': { type: 'string', default: '60' },
      'log-level': { type: 'string', default: 'INFO' },
      'json-logs': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(`${SANDBOX_HELP}\n${SANDBOX_EVENT_HELP}`);
    return 0;
  }
  if (positionals.length > 0) throw usageError(`Unknown sandbox subcommand "${positionals[0]}"`, 'sandbox');

  const oneio = oneioTarget(values, io);
  const sweepSeconds = integer(values['sweep-interval'], '--sweep-interval', 1, 3600);
  const concurrency = integer(values.concurrency, '--concurrency', 1, 1000);
  const logLevel = values['log-level'].toUpperCase();
  if (!['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'TRACE', 'CRITICAL'].includes(logLevel)) {
    throw usageError('--log-level must be DEBUG, INFO, WARN, ERROR or SILENT', 'sandbox');
  }

  // Registered before anything starts, so a Ctrl-C during the start still stops what did start.
  let signalled = false;
  const stopRequested = new Promise<string>((resolve) => {
    for (const signal of SIGNALS) {
      process.on(signal, () => {
        if (signalled) {
          io.err('\nStopping anyway.\n');
          process.exit(130);
        }
        signalled = true;
        resolve(signal);
      });
    }
  });

  const started = Date.now();
  io.out('Starting the oneio-relay sandbox (DynamoDB Local takes a few seconds)…\n');
  let running: Sandbox;
  try {
    running = await startSandbox({
      port: values.port === undefined ? 3000 : integer(values.port, '--port', 0, 65535),
      portFallback: values.port === undefined,
      ...(values['dynamodb-port'] !== undefined && {
        dynamodbPort: integer(values['dynamodb-port'], '--dynamodb-port', 0, 65535),
      }),
      ...(values['dynamodb-endpoint'] !== undefined && { dynamodbEndpoint: values['dynamodb-endpoint'] }),
      tableName: values.table,
      oneio,
      concurrency,
      sweepIntervalMs: sweepSeconds * 1000,
      logLevel,
      jsonLogs: values['json-logs'] === true,
      colour: io.stdoutIsTTY,
      log: (line) => io.out(`${line}\n`),
    });
  } catch (error) {
    if (error instanceof PortTakenError) throw new CliError(error.message, 1, { cause: error });
    throw new CliError(
      `The sandbox could not start: ${error instanceof Error ? error.message : String(error)}`,
      1,
      {
        cause: error,
      },
    );
  }

  const stateFile = sandboxStatePath(io.env);
  writeSandboxState(stateFile, {
    pid: process.pid,
    url: running.url,
    dynamodbEndpoint: running.dynamodbEndpoint,
    tableName: running.tableName,
    tokenKey: running.tokenKey,
  });
  io.out(
    sandboxBanner(running, {
      oneio:
        oneio.kind === 'emulator'
          ? `emulator at ${running.oneioUrl}${values['json-logs'] === true ? ': every message it receives is printed below as [oneio]' : ''}`
          : `${oneio.label}: ${oneio.receiverUrl} (messages are not printed here; see them in ONEiO)`,
      concurrency,
      sweepSeconds,
      jsonLogs: values['json-logs'] === true,
      startupMs: Date.now() - started,
    }),
  );

  const signal = await stopRequested;
  io.out(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping…\n`);
  try {
    await running.stop();
  } finally {
    removeSandboxState(stateFile);
  }
  io.out('Stopped: DynamoDB Local, the emulators and the endpoint are down.\n');
  return 0;
}

function oneioTarget(
  values: { oneio: string; 'token-url'?: string | undefined; 'receiver-url'?: string | undefined },
  io: CliIo,
): SandboxOneio {
  if (values.oneio === 'local') {
    if (values['token-url'] !== undefined || values['receiver-url'] !== undefined) {
      throw usageError('--token-url and --receiver-url go with --oneio qa', 'sandbox');
    }
    return { kind: 'emulator' };
  }
  if (values.oneio !== 'qa') {
    throw usageError(
      `--oneio must be local or qa (got "${values.oneio}"); the sandbox never relays to PROD`,
      'sandbox',
    );
  }
  const clientId = io.env.ONEIO_CLIENT_ID;
  const clientSecret = io.env.ONEIO_CLIENT_SECRET;
  if (!clientId || !clientSecret) {
    throw new CliError(
      '--oneio qa needs the QA endpoint credentials in ONEIO_CLIENT_ID and ONEIO_CLIENT_SECRET ' +
        '(the username and password of the ONEiO endpoint)',
    );
  }
  return {
    kind: 'remote',
    label: 'ONEiO QA',
    tokenUrl: values['token-url'] ?? qa.oneio.tokenUrl,
    receiverUrl: values['receiver-url'] ?? qa.oneio.receiverUrl,
    clientId,
    clientSecret,
  };
}

function integer(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw usageError(`${flag} must be a whole number from ${min} to ${max} (got "${value}")`, 'sandbox');
  }
  return n;
}

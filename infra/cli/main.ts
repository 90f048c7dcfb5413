import { check } from './check';
import { CliError } from './cli-error';
import { type CliIo, processIo } from './cli-io';
import { outbox } from './outbox';
import { pause, resume } from './pause';
import { sandbox } from './sandbox';
import { send } from './send';
import { status } from './status';

export const MAIN_HELP = `Usage: oneio-relay <command> [options]

Commands:
  sandbox                 run the relay locally with DynamoDB Local and emulators (what \`npm start\` runs)
  sandbox event           send an EventBridge event into the running sandbox
  check --env <env>       read the environment's ONEiO credentials and get a token (expiry and scope, never the token)
  send --env <env>        send one test message to ONEiO (--file <message.json>)
  outbox <action>         list, show, redrive or purge outbox items (--env <env>, --sandbox or --table)
  status --env <env>      is it healthy? alarms, outbox, pause, breaker, token, last webhook and delivery,
                          deployed version (--sandbox for the local one, --json for scripts; exit code 1 when
                          anything is red)
  pause --env <env>       hold every delivery to ONEiO, queueing what comes in (--until 2h, --reason …, --sandbox)
  resume --env <env>      end a pause; the sweep sends the queue at the drain rate (--sandbox)

Environments: qa, prod (infra/config.ts); stacks OneioRelay-qa, OneioRelay-prod.
AWS access uses the SDK's default chain: AWS_PROFILE / --profile, AWS_REGION / --region, AWS_ENDPOINT_URL_<SERVICE>.
Run \`oneio-relay <command> --help\` for a command's options.
`;

type Command = (args: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, Command> = { sandbox, check, send, outbox, status, pause, resume };

/**
 * Runs one command line and resolves with the exit code: 0 done, 1 failed (one clear message on stderr),
 * 2 wrong usage. Unexpected errors print their stack only with ONEIO_RELAY_DEBUG=1.
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(MAIN_HELP);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.err(`Unknown command "${name}".\n\n${MAIN_HELP}`);
    return 2;
  }
  try {
    return await command(args, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`Error: ${error.message}\n`);
      return error.exitCode;
    }
    if (isParseArgsError(error)) {
      io.err(`Error: ${error.message}\nRun \`oneio-relay ${name} --help\` for usage.\n`);
      return 2;
    }
    io.err(
      io.env.ONEIO_RELAY_DEBUG === '1' && error instanceof Error
        ? `${error.stack}\n`
        : `Error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n` +
            '(ONEIO_RELAY_DEBUG=1 shows the stack trace)\n',
    );
    return 1;
  }
}

/** node:util parseArgs reports unknown options and missing values as TypeErrors with an ERR_PARSE_ARGS_ code. */
function isParseArgsError(error: unknown): error is Error {
  return (
    error instanceof TypeError && String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS_')
  );
}

import { timestamp } from './outbox-format';

/**
 * How one part of the relay looks: `red` fails the command (a deploy gate stops), and so does `unknown` (health
 * that could not be read is not health); `warn` is worth a look but passes; `n/a` is a part this deployment does
 * not have (yet).
 */
export type Health = 'ok' | 'warn' | 'red' | 'unknown' | 'n/a';

export interface StatusCheck {
  readonly health: Health;
  /** One line for a person. */
  readonly summary: string;
  /** The figures behind the summary, for `--json`. */
  readonly data?: Readonly<Record<string, unknown>>;
}

/** The parts of one status screen, in the order they are shown. */
export const CHECKS = [
  ['alarms', 'alarms'],
  ['outbox', 'outbox'],
  ['paused', 'paused'],
  ['breaker', 'breaker'],
  ['token', 'token'],
  ['lastWebhook', 'last webhook'],
  ['lastDelivery', 'last delivery'],
  ['function', 'function'],
  ['stack', 'stack'],
] as const;

export type CheckName = (typeof CHECKS)[number][0];

export interface StatusReport {
  /** `qa`, `prod` or `sandbox`. */
  readonly target: string;
  /** Where the figures come from, e.g. `stack OneioRelay-qa in eu-west-1`. */
  readonly where: string;
  readonly checkedAt: string;
  /** False when any check is red or unknown: the exit code is then 1. */
  readonly healthy: boolean;
  readonly checks: Readonly<Record<CheckName, StatusCheck>>;
}

export function statusReport(
  target: string,
  where: string,
  checks: Readonly<Record<CheckName, StatusCheck>>,
  now: number,
): StatusReport {
  return {
    target,
    where,
    checkedAt: new Date(now).toISOString(),
    healthy: Object.values(checks).every((check) => check.health !== 'red' && check.health !== 'unknown'),
    checks,
  };
}

/** A part the relay does not have yet, or that the target has no such thing as (the sandbox has no alarms). */
export function notAvailable(why: string): StatusCheck {
  return { health: 'n/a', summary: why };
}

const MARKS: Record<Health, { mark: string; colour: string }> = {
  ok: { mark: '✔', colour: '32' },
  warn: { mark: '!', colour: '33' },
  red: { mark: '✖', colour: '31' },
  unknown: { mark: '?', colour: '31' },
  'n/a': { mark: '–', colour: '2' },
};

/** The status screen: one line per part, a verdict last; colours only for a terminal. */
export function renderStatus(report: StatusReport, colour: boolean): string {
  const paint = (code: string, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const width = Math.max(...CHECKS.map(([, label]) => label.length));
  const lines = CHECKS.map(([name, label]) => {
    const check = report.checks[name];
    const { mark, colour: code } = MARKS[check.health];
    return `  ${paint(code, mark)} ${label.padEnd(width)}  ${check.health === 'n/a' ? paint('2', check.summary) : check.summary}`;
  });
  const failing = CHECKS.filter(([name]) => ['red', 'unknown'].includes(report.checks[name].health)).map(
    ([, label]) => label,
  );
  const verdict = report.healthy
    ? paint('32', 'Healthy.')
    : paint('31', `Not healthy: ${failing.join(', ')}.`);
  return [
    `oneio-relay ${report.target}: ${report.where}, ${timestamp(Date.parse(report.checkedAt))}`,
    ...lines,
    verdict,
    '',
  ].join('\n');
}

/** `12 min ago`, `3 h 5 min ago`, `in 41 min`: how far `then` is from `now`, roughly. */
export function relativeTime(then: number, now: number): string {
  const ms = Math.abs(now - then);
  const text =
    ms < 60_000
      ? `${Math.round(ms / 1000)} s`
      : ms < 3_600_000
        ? `${Math.floor(ms / 60_000)} min`
        : ms < 48 * 3_600_000
          ? `${Math.floor(ms / 3_600_000)} h ${Math.floor((ms % 3_600_000) / 60_000)} min`
          : `${Math.floor(ms / 86_400_000)} days`;
  return then <= now ? `${text} ago` : `in ${text}`;
}

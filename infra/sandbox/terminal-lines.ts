import type { ActivityEntry, Finished } from './activity';
import { headerList, messageHeaders } from './oneio-request-view';

/** ANSI colours, used only when the output is a terminal. */
const COLOURS = { dim: '2', green: '32', yellow: '33', red: '31', cyan: '36' } as const;
type Colour = keyof typeof COLOURS;

/**
 * The sandbox's default output, one line per request, event or sweep that did something:
 * `14:03:11  POST /webhooks/github  200 delivered  relay 246c…  312 ms  → ONEiO /api/v2 [x-github-event: ping]
 * (token refreshed)`.
 */
export function terminalLine(finished: Finished, colour: boolean, now = Date.now()): string | undefined {
  const paint = (name: Colour, text: string) => (colour ? `\x1b[${COLOURS[name]}m${text}\x1b[0m` : text);
  const time = paint('dim', clock(now));
  if (finished.kind === 'sweep') {
    const { sweep, delivered } = finished;
    if (sweep.delivered + sweep.rescheduled + sweep.parked === 0) return undefined;
    const which = delivered.map((entry) => `relay ${short(entry.relayId)}`).join(', ');
    return (
      `${time}  ${paint('cyan', 'SWEEP')}  ${paint(sweep.delivered > 0 ? 'green' : 'yellow', `${sweep.delivered} delivered`)}` +
      ` · ${sweep.rescheduled} retried later · ${sweep.parked} parked${which === '' ? '' : `  (${which})`}`
    );
  }
  const entry = finished.entry;
  const what =
    entry.kind === 'webhook'
      ? `${entry.method} ${entry.path}`
      : `EVENT ${entry.source.replace(/^eventbridge:/, '')} "${entry.detailType ?? ''}"`;
  const status = entry.answer?.status;
  const outcome = entry.outcome ?? (status === undefined ? 'failed' : 'answered');
  const verdict = `${status === undefined ? '' : `${status} `}${outcome}${entry.detail === undefined || outcome === 'delivered' ? '' : ` (${entry.detail})`}`;
  const extras = [
    entry.tokenRefreshed ? 'token refreshed' : undefined,
    entry.coldStart ? `cold start #${entry.environment}` : undefined,
    ...entry.notes,
  ].filter((extra) => extra !== undefined);
  return [
    time,
    what,
    paint(colourOf(entry, outcome), verdict),
    entry.relayId === undefined ? undefined : `relay ${short(entry.relayId)}`,
    entry.latencyMs === undefined ? undefined : `${entry.latencyMs} ms`,
    toOneio(entry),
    extras.length === 0 ? undefined : paint('dim', `(${extras.join('; ')})`),
  ]
    .filter((part) => part !== undefined)
    .join('  ');
}

/**
 * Where the last attempt went in ONEiO and the sender headers it carried: `→ ONEiO /api/v2?issue.key=ABC-1
 * [x-github-event: ping]`. Known only with the emulator (a remote ONEiO's requests are not seen).
 */
function toOneio(entry: ActivityEntry): string | undefined {
  const attempt = entry.oneio.at(-1);
  if (attempt === undefined) return undefined;
  const { forwarded } = messageHeaders(attempt.headers);
  return `→ ONEiO ${attempt.url}${forwarded.length === 0 ? '' : ` [${headerList(forwarded)}]`}`;
}

function colourOf(entry: ActivityEntry, outcome: string): Colour {
  if (outcome === 'delivered' || outcome.startsWith('duplicate')) return 'green';
  if (outcome === 'queued' || outcome === 'parked' || outcome === 'refused') return 'yellow';
  return (entry.answer?.status ?? 500) < 400 ? 'yellow' : 'red';
}

/** `246c…`: enough of a relay id to find it in the inspector or the outbox. */
function short(id: string | undefined): string {
  return id === undefined ? '?' : `${id.slice(0, 8)}…`;
}

function clock(epochMs: number): string {
  const d = new Date(epochMs);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

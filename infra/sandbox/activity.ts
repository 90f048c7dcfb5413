import { createHash } from 'node:crypto';
import type { OutboxItem } from '../../functions/relay/ports/outbox';
import type { ReceiverRequest } from '../local/oneio-emulator';
import type { Masker } from './masking';

/** Bodies longer than this are cut in what the inspector keeps (the terminal and the relay are not affected). */
const BODY_CHARS = 64 * 1024;
/** Requests kept for the page, newest last; older ones are dropped. */
const KEEP_ENTRIES = 500;

/** What ONEiO received in one attempt, as the emulator saw it, credentials masked. */
export interface OneioAttempt {
  readonly emulatorId: number;
  readonly at: number;
  /** Path and query string as requested. */
  readonly url: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
  readonly bytes: number;
  /** The emulator's answer; null when it reset the connection instead. */
  readonly status: number | null;
  /** Whether ONEiO got exactly the bytes the sender sent. */
  readonly byteIdentical: boolean;
  /** `call`: during the sender's request; `sweep`: a later retry from the outbox. */
  readonly by: 'call' | 'sweep';
}

/** One webhook or event as the inspector shows it. */
export interface ActivityEntry {
  /** API Gateway's request id for a webhook, the event id for an event. */
  readonly id: string;
  readonly kind: 'webhook' | 'event';
  readonly at: number;
  readonly method: string;
  /** Path with query string. */
  readonly path: string;
  /** The source name, or `eventbridge:<source>` for an event. */
  readonly source: string;
  /** `detail-type` of an event. */
  readonly detailType?: string;
  readonly request: {
    readonly headers: ReadonlyArray<readonly [string, string]>;
    readonly body: string;
    readonly bytes: number;
  };
  answer?: { status: number; body: string };
  latencyMs?: number;
  relayId?: string;
  /** `delivered`, `duplicate-of-…`, `queued`, `parked`, `refused`, `failed` or `error`, as the function logged it. */
  outcome?: string;
  /** Why: the refusal reason, or the last delivery error. */
  detail?: string;
  attempts?: number;
  tokenRefreshed: boolean;
  /** Execution environment that ran it, and whether it was that environment's cold start. */
  environment?: number;
  coldStart: boolean;
  /** Warnings and errors the function logged while handling it. */
  readonly notes: string[];
  readonly oneio: OneioAttempt[];
  /** Where a queued or parked message is now, from the table; `delivered` once a sweep delivered it. */
  outbox?: {
    state: 'due' | 'parked' | 'delivered' | 'removed';
    attempts?: number;
    dueAt?: number;
    lastError?: string;
  };
}

/** What the token panel shows besides the table: who refreshed, how often (never the token). */
export interface TokenActivity {
  refreshes: number;
  lastRefreshAt?: number;
  lastRefreshBy?: number;
}

export interface SweepSummary {
  readonly at: number;
  readonly delivered: number;
  readonly rescheduled: number;
  readonly parked: number;
}

/** What a finished invocation tells the terminal. */
export type Finished =
  | { readonly kind: 'entry'; readonly entry: ActivityEntry }
  | { readonly kind: 'sweep'; readonly sweep: SweepSummary; readonly delivered: readonly ActivityEntry[] };

type Running =
  | { readonly kind: 'entry'; readonly id: string }
  | { readonly kind: 'sweep'; deliveredIds: Set<string> };

/**
 * Everything the sandbox saw, tied together: each request or event with the function's log lines of its
 * invocation, its answer, and what ONEiO received for it. The link between an invocation and a ONEiO request is
 * exact: an execution environment runs one invocation at a time, and its agent reports which emulator request
 * it sent (see answer-observer.ts). A retry by the sweep is matched to its message by the `X-Relay-Message-Id`
 * header when the relay sends one, otherwise by the body bytes among queued messages, the one due first (the
 * sandbox reads the outbox just before each sweep).
 *
 * Holds nothing secret: every header and body is masked on the way in.
 */
export class Activity {
  readonly #entries = new Map<string, ActivityEntry>();
  /** SHA-256 of each sender's body as received, to tell byte for byte whether ONEiO got the same. */
  readonly #senderDigests = new Map<string, string>();
  readonly #running = new Map<number, Running>();
  readonly #unlinked = new Map<number, ReceiverRequest>();
  readonly #listeners = new Set<() => void>();
  readonly token: TokenActivity = { refreshes: 0 };
  lastSweep: SweepSummary | undefined;

  constructor(private readonly masker: Masker) {}

  /** Called on every change (the page's live list listens). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Newest first. */
  list(): ActivityEntry[] {
    return [...this.#entries.values()].reverse();
  }

  get(id: string): ActivityEntry | undefined {
    return this.#entries.get(id);
  }

  /** A request or event arrived from a sender. */
  received(init: {
    id: string;
    kind: ActivityEntry['kind'];
    method: string;
    path: string;
    source: string;
    detailType?: string;
    headers: ReadonlyArray<readonly [string, string]>;
    body: Buffer;
  }): void {
    this.#entries.set(init.id, {
      id: init.id,
      kind: init.kind,
      at: Date.now(),
      method: init.method,
      path: init.path,
      source: init.source,
      ...(init.detailType !== undefined && { detailType: init.detailType }),
      request: {
        headers: this.masker.headers(init.headers),
        body: this.#body(init.body),
        bytes: init.body.length,
      },
      tokenRefreshed: false,
      coldStart: false,
      notes: [],
      oneio: [],
    });
    this.#senderDigests.set(init.id, digest(init.body));
    while (this.#entries.size > KEEP_ENTRIES) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
      this.#senderDigests.delete(oldest);
    }
    this.#changed();
  }

  /** The sender got its answer (webhooks; events are answered by the sandbox's /events endpoint). */
  answered(id: string, answer: { status: number; body: string; latencyMs: number }): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    entry.answer = { status: answer.status, body: this.masker.text(answer.body) };
    entry.latencyMs ??= answer.latencyMs;
    this.#changed();
  }

  /** An invocation starts on environment `environment`: `id` is its entry, or `sweep`. */
  invocationStarted(environment: number, id: string | 'sweep', coldStart: boolean): void {
    this.#running.set(
      environment,
      id === 'sweep' ? { kind: 'sweep', deliveredIds: new Set() } : { kind: 'entry', id },
    );
    const entry = id === 'sweep' ? undefined : this.#entries.get(id);
    if (entry !== undefined) {
      entry.environment = environment;
      entry.coldStart = coldStart;
    }
  }

  /** The invocation on `environment` ended; says what to print for it. */
  invocationEnded(environment: number): Finished | undefined {
    const running = this.#running.get(environment);
    this.#running.delete(environment);
    if (running?.kind === 'entry') {
      const entry = this.#entries.get(running.id);
      return entry === undefined ? undefined : { kind: 'entry', entry };
    }
    if (running?.kind === 'sweep' && this.lastSweep !== undefined) {
      const delivered = [...running.deliveredIds].flatMap((id) => this.#entries.get(id) ?? []);
      return { kind: 'sweep', sweep: this.lastSweep, delivered };
    }
    return undefined;
  }

  /** One log line of the function, from environment `environment`. */
  functionLog(environment: number, fields: Readonly<Record<string, unknown>>): void {
    const running = this.#running.get(environment);
    const entry = running?.kind === 'entry' ? this.#entries.get(running.id) : undefined;
    const message = String(fields.message ?? '');
    if (message === 'Access token refreshed') {
      this.token.refreshes += 1;
      this.token.lastRefreshAt = Date.now();
      this.token.lastRefreshBy = environment;
      if (entry !== undefined) entry.tokenRefreshed = true;
    }
    if (message === 'Outbox swept') {
      this.lastSweep = {
        at: Date.now(),
        delivered: Number(fields.delivered ?? 0),
        rescheduled: Number(fields.rescheduled ?? 0),
        parked: Number(fields.parked ?? 0),
      };
    }
    if (entry !== undefined && /^(Webhook|Event) handled$|^Event not relayed/.test(message)) {
      if (typeof fields.relayId === 'string') entry.relayId = fields.relayId;
      if (typeof fields.outcome === 'string') entry.outcome = fields.outcome;
      if (typeof fields.attempts === 'number') entry.attempts = fields.attempts;
      if (typeof fields.latencyMs === 'number') entry.latencyMs = fields.latencyMs;
      const why = fields.reason ?? fields.lastError ?? fields.error;
      if (why !== undefined) entry.detail = this.masker.text(String(why));
    }
    const level = String(fields.level ?? '');
    if (entry !== undefined && (level === 'WARN' || level === 'ERROR' || level === 'CRITICAL')) {
      const error = fields.error === undefined ? '' : `: ${String(fields.error)}`;
      entry.notes.push(this.masker.text(`${level} ${message}${error}`));
    }
    this.#changed();
  }

  /** The emulator answered a receiver request (or reset it); linked once its sender reports it. */
  oneioRequest(request: ReceiverRequest): void {
    this.#unlinked.set(request.id, request);
    // A reset has no answer for the sender to report: link it to the only invocation running, if there is one.
    if (request.status === undefined && this.#running.size === 1) {
      const [environment] = this.#running.keys();
      if (environment !== undefined) this.linkOneio(request.id, environment);
    }
  }

  /** Environment `environment` received the emulator's answer to request `emulatorId`. */
  linkOneio(emulatorId: number, environment: number): void {
    const request = this.#unlinked.get(emulatorId);
    const running = this.#running.get(environment);
    if (request === undefined || running === undefined) return;
    this.#unlinked.delete(emulatorId);
    const entry =
      this.#byMessageId(request) ??
      (running.kind === 'entry' ? this.#entries.get(running.id) : this.#queuedWithBody(request.rawBody));
    if (entry === undefined) return;
    const attempt: OneioAttempt = {
      emulatorId,
      at: request.receivedAt,
      url: this.masker.text(request.url),
      headers: this.masker.headers(request.headers),
      body: this.#body(request.rawBody),
      bytes: request.rawBody.length,
      status: request.status ?? null,
      byteIdentical: this.#senderDigests.get(entry.id) === digest(request.rawBody),
      by: running.kind === 'entry' && running.id === entry.id ? 'call' : 'sweep',
    };
    entry.oneio.push(attempt);
    if (
      running.kind === 'sweep' &&
      request.status !== undefined &&
      request.status >= 200 &&
      request.status < 300
    ) {
      running.deliveredIds.add(entry.id);
      entry.outbox = { state: 'delivered' };
    }
    this.#changed();
  }

  /** Entries whose message may still be in the outbox: the sandbox looks them up after each sweep. */
  pendingInOutbox(): ActivityEntry[] {
    return [...this.#entries.values()].filter(
      (entry) =>
        entry.relayId !== undefined &&
        (entry.outcome === 'queued' || entry.outcome === 'parked') &&
        entry.outbox?.state !== 'delivered' &&
        entry.outbox?.state !== 'removed',
    );
  }

  /** The outbox item of an entry now (undefined: no longer there). */
  outboxState(id: string, item: OutboxItem | undefined): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    const next: ActivityEntry['outbox'] =
      item === undefined
        ? { state: entry.outbox?.state === 'delivered' ? 'delivered' : 'removed' }
        : {
            state: item.state,
            attempts: item.attempts,
            dueAt: item.dueAt,
            lastError: this.masker.text(item.lastError),
          };
    if (JSON.stringify(next) === JSON.stringify(entry.outbox)) return;
    entry.outbox = next;
    this.#changed();
  }

  #byMessageId(request: ReceiverRequest): ActivityEntry | undefined {
    const id = request.headers.find(([name]) => name.toLowerCase() === 'x-relay-message-id')?.[1];
    return id === undefined ? undefined : [...this.#entries.values()].find((entry) => entry.relayId === id);
  }

  /**
   * The queued entry whose message has these bytes (as ONEiO saw it before, or as its sender sent it). When
   * several have, the sweep took the one due first: entries whose item was due at the sweep's start, by due time,
   * then the oldest.
   */
  #queuedWithBody(body: Buffer): ActivityEntry | undefined {
    const text = this.#body(body);
    const sent = digest(body);
    const now = Date.now();
    const dueBy = (entry: ActivityEntry) =>
      entry.outbox?.state === 'due' && (entry.outbox.dueAt ?? Number.POSITIVE_INFINITY) <= now
        ? (entry.outbox.dueAt ?? 0)
        : Number.POSITIVE_INFINITY;
    return this.pendingInOutbox()
      .filter(
        (entry) =>
          this.#senderDigests.get(entry.id) === sent || entry.oneio.some((attempt) => attempt.body === text),
      )
      .sort((a, b) => dueBy(a) - dueBy(b) || a.at - b.at)[0];
  }

  #body(bytes: Buffer): string {
    const text = this.masker.text(bytes.toString('utf8'));
    return text.length > BODY_CHARS ? `${text.slice(0, BODY_CHARS)}… (${bytes.length} bytes in all)` : text;
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

function digest(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

import { neverForwardedReason } from '../inbound/forwarded-headers';
import { formFields } from '../inbound/read-body';
import type { OutboundMessage } from './deliver';

/**
 * What the relay POSTs to ONEiO for one message, decided from the message alone: the outbox keeps every field it
 * reads, so the first attempt, every retry and an operator's redrive send the same URL, headers and body.
 */
export interface OutboundRequest {
  /** The receiver URL with the message's query string, if any. */
  readonly url: string;
  /** The relay's metadata and the forwarded sender headers, names lower case (not authorization, content type). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The relay's own headers: ONEiO can route and map by them, and no sender header can take their place. */
export const RELAY_HEADERS = {
  /** The source name, or `eventbridge:<event source>`. */
  source: 'x-relay-source',
  /** The relay id: the same on every copy of one message, so copies can be told apart from new messages. */
  messageId: 'x-relay-message-id',
  /** The sender's delivery id, or the hash the relay de-duplicates by. */
  deliveryId: 'x-relay-delivery-id',
  /** When the relay first received the message, ISO 8601 (UTC, milliseconds). */
  receivedAt: 'x-relay-received-at',
} as const;

/** RFC 9110 §5.5 field values, as undici accepts them: anything else would fail the request before it is sent. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** The request for `message` to the receiver at `receiverUrl`. */
export function outboundRequest(message: OutboundMessage, receiverUrl: string): OutboundRequest {
  const forwarded = forwardableHeaders(message.forwardedHeaders);
  return {
    url: withQuery(receiverUrl, message.query ?? ''),
    headers: {
      ...forwarded,
      [RELAY_HEADERS.source]: message.source,
      [RELAY_HEADERS.messageId]: message.relayId,
      [RELAY_HEADERS.deliveryId]: message.deliveryId,
      [RELAY_HEADERS.receivedAt]: new Date(message.receivedAt).toISOString(),
    },
    body: message.envelope ? envelope(message, forwarded) : message.body,
  };
}

/**
 * The sender headers that may go on. The inbound side only ever keeps allowed ones; this checks again at the last
 * moment, so nothing read back from the outbox can set `authorization`, `content-type`, an `x-relay-*` header or a
 * value undici would refuse (which would fail every attempt of the message).
 */
function forwardableHeaders(
  headers: Readonly<Record<string, string>> | undefined,
): Readonly<Record<string, string>> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (neverForwardedReason(lower, undefined) !== undefined || !FIELD_VALUE.test(value)) continue;
    out[lower] = out[lower] === undefined ? value : `${out[lower]}, ${value}`;
  }
  return out;
}

/** `url` with `query` appended as it is (already encoded as the sender sent it). */
function withQuery(url: string, query: string): string {
  if (query === '') return url;
  if (!url.includes('?')) return `${url}?${query}`;
  return url.endsWith('?') || url.endsWith('&') ? `${url}${query}` : `${url}&${query}`;
}

/**
 * `{"source": …, "messageId": …, "receivedAt": …, "headers": {…}, "query": {…}, "payload": <body>}`, for ONEiO
 * endpoints that map from JSON fields only. `query` holds the parameters decoded as a form is. Built around the body's text: the payload is the body byte for byte,
 * never parsed and re-serialised, so big integers and key order reach ONEiO as the sender wrote them.
 */
export function envelope(message: OutboundMessage, headers: Readonly<Record<string, string>>): string {
  return (
    `{"source":${JSON.stringify(message.source)}` +
    `,"messageId":${JSON.stringify(message.relayId)}` +
    `,"receivedAt":${JSON.stringify(new Date(message.receivedAt).toISOString())}` +
    `,"headers":${JSON.stringify(headers)}` +
    `,"query":${JSON.stringify(formFields(message.query ?? ''))}` +
    `,"payload":${message.body}}`
  );
}

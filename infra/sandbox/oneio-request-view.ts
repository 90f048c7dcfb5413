/**
 * How the sandbox shows one request the relay made to ONEiO: where it went (path and query) and the headers ONEiO
 * can route and map by. The token, the framing (content type and length, host, connection) are left out: they say
 * nothing about the message.
 */

const FRAMING = new Set([
  'authorization',
  'content-type',
  'content-length',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
]);

/** The relay's own `X-Relay-*` headers, then the sender headers it forwarded, in the order they were sent. */
export function messageHeaders(headers: ReadonlyArray<readonly [string, string]>): {
  readonly relay: [string, string][];
  readonly forwarded: [string, string][];
} {
  const relay: [string, string][] = [];
  const forwarded: [string, string][] = [];
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (FRAMING.has(lower)) continue;
    (lower.startsWith('x-relay-') ? relay : forwarded).push([lower, value]);
  }
  return { relay, forwarded };
}

/** `name: value; name: value`. */
export function headerList(headers: ReadonlyArray<readonly [string, string]>): string {
  return headers.map(([name, value]) => `${name}: ${value}`).join('; ');
}

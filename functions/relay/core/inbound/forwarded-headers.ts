import type { SchemeName, SourceDeclaration } from './source-declaration';
import { headerValue } from './verify/request-header';
import type { InboundRequest } from './verify/types';

/**
 * Which sender headers go on to ONEiO. Many senders say what an event is only in a header (GitHub's
 * `X-GitHub-Event`, GitLab's `X-Gitlab-Event`), so each scheme forwards its senders' metadata headers by default, and
 * a source may add more with `forwardHeaders`. Credentials, signatures, cookies, hop-by-hop and proxy headers are
 * never forwarded, whatever a declaration says: the config is refused at synth and cold start if it names one,
 * and {@link forwardedHeaders} drops them again in case a default ever did.
 */

/** The metadata headers each scheme's senders document, in the spelling they document. */
export const DEFAULT_FORWARDED_HEADERS: Readonly<Record<SchemeName, readonly string[]>> = {
  // https://docs.github.com/webhooks/webhook-events-and-payloads#delivery-headers
  github: [
    'X-GitHub-Event',
    'X-GitHub-Hook-ID',
    'X-GitHub-Hook-Installation-Target-Type',
    'X-GitHub-Hook-Installation-Target-ID',
  ],
  'standard-webhooks': [],
  // Stripe puts the event type in the body.
  stripe: [],
  // The senders this scheme is used for: Jira Cloud admin webhooks and Shopify.
  'hmac-sha256': [
    'X-Atlassian-Webhook-Identifier',
    'X-Shopify-Topic',
    'X-Shopify-Shop-Domain',
    'X-Shopify-API-Version',
    'X-Shopify-Webhook-Id',
    'X-Shopify-Event-Id',
    'X-Shopify-Triggered-At',
  ],
  basic: [],
  unauthenticated: [],
  // https://api.slack.com/apis/events-api#retries
  slack: ['X-Slack-Retry-Num', 'X-Slack-Retry-Reason'],
  zoom: ['x-zm-trackingid'],
  zendesk: ['X-Zendesk-Account-Id', 'X-Zendesk-Webhook-Id', 'X-Zendesk-Webhook-Invocation-Id'],
  // https://developer.pagerduty.com/docs/webhooks/v3-overview/#webhook-headers
  pagerduty: ['X-Webhook-Id', 'X-Webhook-Subscription'],
  // GitLab, the best-known sender of a static token (https://docs.gitlab.com/user/project/integrations/webhooks/).
  token: ['X-Gitlab-Event', 'X-Gitlab-Instance', 'X-Gitlab-Webhook-UUID', 'X-Gitlab-Event-UUID'],
  msteams: [],
  msgraph: [],
};

/** RFC 9110 §7.6.1 hop-by-hop headers, and the ones only proxies and the gateway set. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);
const PROXY = new Set(['forwarded', 'via', 'x-real-ip']);
const PROXY_PREFIXES = ['x-forwarded-', 'x-amzn-', 'x-amz-'];
/** The relay frames its own request: these would contradict the body or the URL it sends. */
const FRAMING = new Set(['host', 'content-length', 'content-type', 'content-encoding', 'expect']);
/** Names that carry a secret or a credential in every scheme the relay knows and in most it does not. */
const SECRET_WORDS = [
  'authorization',
  'cookie',
  'signature',
  'token',
  'secret',
  'password',
  'api-key',
  'apikey',
];

/**
 * Why a header may never be forwarded, or `undefined` when it may. `name` is lower case. Besides the fixed rules,
 * `secretHeader`, the header that carries the source's own secret (`hmac-sha256` and `token` name it, with any
 * name), is never forwarded.
 */
export function neverForwardedReason(name: string, secretHeader: string | undefined): string | undefined {
  if (secretHeader?.toLowerCase() === name) return 'it carries the source’s secret';
  if (SECRET_WORDS.some((word) => name.includes(word))) return 'a credential or signature header';
  if (HOP_BY_HOP.has(name)) return 'a hop-by-hop header';
  if (PROXY.has(name) || PROXY_PREFIXES.some((prefix) => name.startsWith(prefix))) return 'a proxy header';
  if (FRAMING.has(name)) return 'the relay sets it itself';
  if (name.startsWith('x-relay-')) return 'the relay’s own metadata';
  return undefined;
}

/**
 * The sender headers to relay for an accepted request: the scheme's defaults, then the source's `forwardHeaders`,
 * each only when present. Names are lower case (as API Gateway delivers them), so ONEiO can match them exactly;
 * a header the sender repeated arrives joined with `, `.
 */
export function forwardedHeaders(
  request: Pick<InboundRequest, 'headers'>,
  declaration: SourceDeclaration,
): Readonly<Record<string, string>> {
  const out = new Map<string, string>();
  for (const name of [
    ...DEFAULT_FORWARDED_HEADERS[declaration.scheme],
    ...(declaration.forwardHeaders ?? []),
  ]) {
    const lower = name.toLowerCase();
    if (out.has(lower) || neverForwardedReason(lower, secretHeaderOf(declaration)) !== undefined) continue;
    const value = headerValue(request.headers, lower);
    if (value !== undefined) out.set(lower, value);
  }
  return Object.fromEntries(out);
}

/** The header a declaration names for its secret, whatever it is called. */
export function secretHeaderOf(declaration: SourceDeclaration): string | undefined {
  return declaration.scheme === 'hmac-sha256' || declaration.scheme === 'token'
    ? declaration.header
    : undefined;
}

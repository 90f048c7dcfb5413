import { isIPv4, isIPv6 } from 'node:net';
import { neverForwardedReason } from './forwarded-headers';

/**
 * A webhook source as an operator declares it in `infra/config.ts`. The stack passes the declarations to the
 * function as JSON (`RELAY_SOURCES`); both sides validate them with {@link parseSourceDeclarations}.
 */

export type SignatureScheme =
  /** `X-Hub-Signature-256: sha256=<hex>`; delivery id from `X-GitHub-Delivery`. */
  | { readonly scheme: 'github' }
  /** Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). */
  | { readonly scheme: 'standard-webhooks'; readonly toleranceSeconds?: number }
  /** `Stripe-Signature: t=…,v1=…`; delivery id is the event `id` in the body. */
  | { readonly scheme: 'stripe'; readonly toleranceSeconds?: number }
  /** Generic HMAC-SHA256 of the raw body in a header (Jira Cloud, Shopify, …). */
  | {
      readonly scheme: 'hmac-sha256';
      readonly header: string;
      readonly prefix?: string;
      readonly encoding: 'hex' | 'base64';
    }
  /** HTTP Basic credentials, the secret being `user:password`. */
  | { readonly scheme: 'basic' }
  /** No authentication at all; only when an operator says so explicitly. */
  | { readonly scheme: 'unauthenticated' }
  /** `X-Slack-Signature: v0=<hex>` over `v0:<timestamp>:<body>`; answers `url_verification`. */
  | { readonly scheme: 'slack'; readonly toleranceSeconds?: number }
  /** `x-zm-signature: v0=<hex>` over `v0:<timestamp>:<body>`; answers `endpoint.url_validation`. */
  | { readonly scheme: 'zoom'; readonly toleranceSeconds?: number }
  /** `X-Zendesk-Webhook-Signature`: base64 HMAC-SHA256 of `<timestamp><body>`. */
  | { readonly scheme: 'zendesk'; readonly toleranceSeconds?: number }
  /** `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]` over the body. */
  | { readonly scheme: 'pagerduty' }
  /** A static token in a header (`X-Gitlab-Token`, Okta's `Authorization`) or in a query parameter. */
  | ({ readonly scheme: 'token'; readonly idHeader?: string } & (
      | { readonly header: string; readonly query?: undefined }
      | { readonly query: string; readonly header?: undefined }
    ))
  /** Microsoft Teams outgoing webhook: `Authorization: HMAC <base64>`, keyed with the decoded security token. */
  | { readonly scheme: 'msteams' }
  /** Microsoft Graph change notifications, checked by `clientState`; answers `validationToken`. */
  | { readonly scheme: 'msgraph' };

export type SchemeName = SignatureScheme['scheme'];

/** What an operator may declare for any source, whatever its scheme. */
export interface SourceOptions {
  /** Optional allow-list of CIDR blocks matched against the API Gateway source IP. */
  readonly allowCidrs?: readonly string[];
  /**
   * Answers Okta event hooks' one-time verification `GET` (after the source's own check, which Okta's
   * authorization header passes). Only for the `token` and `basic` schemes; the only source GET is routed for.
   */
  readonly oktaVerification?: boolean;
  // The four fields below describe what ONEiO is to receive besides the body (core/delivery/outbound-request.ts);
  // a config that names a signature header, or an endpoint `oneio.endpoints` does not declare, fails at synth.
  /** Sender headers to relay to ONEiO on top of the scheme's defaults (never a signature, credential or hop header). */
  readonly forwardHeaders?: readonly string[];
  /** Whether the incoming query string is to go on to ONEiO's receiver URL. @default true */
  readonly forwardQuery?: boolean;
  /** Whether to wrap the body in an envelope with the relay's metadata, for ONEiO endpoints that map JSON fields only. */
  readonly envelope?: boolean;
  /** The named ONEiO endpoint (credential pair) to receive this source's messages. @default the default pair */
  readonly oneioEndpoint?: string;
}

export type SourceDeclaration = SignatureScheme & SourceOptions;

export type SourceDeclarations = Readonly<Record<string, SourceDeclaration>>;

/** A source name is one URL path segment: lower-case letters, digits and dashes, so no path tricks fit in it. */
export const SOURCE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A ONEiO endpoint name: a key of the credentials secret's `endpoints` object. */
export const ONEIO_ENDPOINT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** Header names as operators write them: letters, digits and dashes. */
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/;
/** A query parameter name, kept to characters that need no percent-encoding. */
const QUERY_NAME = /^[A-Za-z0-9._~-]{1,64}$/;
/** Enough for any sender's metadata; each header also costs room in the 2 KB of declarations. */
const MAX_FORWARD_HEADERS = 20;

/** The fields each scheme takes besides `scheme` and {@link SourceOptions}; anything else is a mistake. */
const SCHEME_FIELDS: Readonly<Record<SchemeName, readonly string[]>> = {
  github: [],
  'standard-webhooks': ['toleranceSeconds'],
  stripe: ['toleranceSeconds'],
  'hmac-sha256': ['header', 'prefix', 'encoding'],
  basic: [],
  unauthenticated: [],
  slack: ['toleranceSeconds'],
  zoom: ['toleranceSeconds'],
  zendesk: ['toleranceSeconds'],
  pagerduty: [],
  token: ['header', 'query', 'idHeader'],
  msteams: [],
  msgraph: [],
};

const SCHEMES = Object.keys(SCHEME_FIELDS) as SchemeName[];

const OPTION_FIELDS: readonly (keyof SourceOptions)[] = [
  'allowCidrs',
  'oktaVerification',
  'forwardHeaders',
  'forwardQuery',
  'envelope',
  'oneioEndpoint',
];

export class SourceDeclarationError extends Error {
  override readonly name = 'SourceDeclarationError';
}

/**
 * Validates declarations (already parsed from JSON or written in TypeScript) and returns them typed.
 * Throws {@link SourceDeclarationError} naming the offending source and field.
 */
export function parseSourceDeclarations(value: unknown): SourceDeclarations {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SourceDeclarationError('sources must be an object of "<name>": { "scheme": … }');
  }
  const out: Record<string, SourceDeclaration> = {};
  for (const [name, raw] of Object.entries(value)) {
    if (!SOURCE_NAME_PATTERN.test(name)) {
      throw new SourceDeclarationError(
        `sources.${name}: a source name must match ${SOURCE_NAME_PATTERN} (it is a URL path segment)`,
      );
    }
    out[name] = parseOne(name, raw);
  }
  return out;
}

function parseOne(name: string, raw: unknown): SourceDeclaration {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SourceDeclarationError(`sources.${name} must be an object with a "scheme"`);
  }
  const decl = raw as Record<string, unknown>;
  const scheme = decl.scheme;
  if (typeof scheme !== 'string' || !SCHEMES.includes(scheme as SchemeName)) {
    throw new SourceDeclarationError(`sources.${name}.scheme must be one of ${SCHEMES.join(', ')}`);
  }
  const fail = (field: string, rule: string): never => {
    throw new SourceDeclarationError(`sources.${name}.${field} ${rule}`);
  };
  const allowed = new Set<string>(['scheme', ...OPTION_FIELDS, ...SCHEME_FIELDS[scheme as SchemeName]]);
  for (const field of Object.keys(decl)) {
    if (!allowed.has(field)) {
      fail(field, `is not a field of the ${scheme} scheme (it takes ${[...allowed].join(', ')})`);
    }
  }
  checkSchemeFields(scheme as SchemeName, decl, fail);
  checkOptions(scheme as SchemeName, decl, fail);
  // Every field has been checked against the scheme above.
  return decl as unknown as SourceDeclaration;
}

type Fail = (field: string, rule: string) => never;

function checkSchemeFields(scheme: SchemeName, decl: Record<string, unknown>, fail: Fail): void {
  if (decl.toleranceSeconds !== undefined) {
    const t = decl.toleranceSeconds;
    if (typeof t !== 'number' || !Number.isInteger(t) || t <= 0 || t > 3600) {
      fail('toleranceSeconds', 'must be an integer between 1 and 3600');
    }
  }
  if (scheme === 'hmac-sha256') {
    if (!isHeaderName(decl.header)) fail('header', 'must be an HTTP header name');
    if (decl.encoding !== 'hex' && decl.encoding !== 'base64') fail('encoding', 'must be "hex" or "base64"');
    if (decl.prefix !== undefined && typeof decl.prefix !== 'string') fail('prefix', 'must be a string');
  }
  if (scheme === 'token') {
    if ((decl.header === undefined) === (decl.query === undefined)) {
      fail('header', 'or query must be set, not both: where the sender puts its token');
    }
    if (decl.header !== undefined && !isHeaderName(decl.header))
      fail('header', 'must be an HTTP header name');
    if (decl.query !== undefined && (typeof decl.query !== 'string' || !QUERY_NAME.test(decl.query))) {
      fail('query', `must be a query parameter name matching ${QUERY_NAME}`);
    }
    if (decl.idHeader !== undefined && !isHeaderName(decl.idHeader)) {
      fail('idHeader', 'must be an HTTP header name');
    }
  }
}

function checkOptions(scheme: SchemeName, decl: Record<string, unknown>, fail: Fail): void {
  if (decl.allowCidrs !== undefined) {
    if (
      !Array.isArray(decl.allowCidrs) ||
      decl.allowCidrs.length === 0 ||
      !decl.allowCidrs.every((c) => typeof c === 'string' && isCidr(c))
    ) {
      fail(
        'allowCidrs',
        'must be a non-empty list of CIDR blocks like 192.0.2.0/24 (omit it to allow any address)',
      );
    }
  }
  for (const field of ['oktaVerification', 'forwardQuery', 'envelope'] as const) {
    if (decl[field] !== undefined && typeof decl[field] !== 'boolean') fail(field, 'must be true or false');
  }
  if (decl.oktaVerification === true && scheme !== 'token' && scheme !== 'basic') {
    fail(
      'oktaVerification',
      'needs the token or basic scheme (Okta authenticates with a fixed Authorization header)',
    );
  }
  if (
    decl.oneioEndpoint !== undefined &&
    (typeof decl.oneioEndpoint !== 'string' || !ONEIO_ENDPOINT_NAME_PATTERN.test(decl.oneioEndpoint))
  ) {
    fail('oneioEndpoint', `must be an endpoint name matching ${ONEIO_ENDPOINT_NAME_PATTERN}`);
  }
  if (decl.forwardHeaders !== undefined) {
    const secretHeader =
      (scheme === 'hmac-sha256' || scheme === 'token') && typeof decl.header === 'string'
        ? decl.header
        : undefined;
    checkForwardHeaders(decl.forwardHeaders, secretHeader, fail);
  }
}

function checkForwardHeaders(headers: unknown, secretHeader: string | undefined, fail: Fail): void {
  if (!Array.isArray(headers) || headers.length > MAX_FORWARD_HEADERS) {
    fail('forwardHeaders', `must be a list of at most ${MAX_FORWARD_HEADERS} header names`);
  }
  const seen = new Set<string>();
  for (const header of headers as unknown[]) {
    if (!isHeaderName(header))
      fail('forwardHeaders', `must hold HTTP header names (got ${JSON.stringify(header)})`);
    const lower = (header as string).toLowerCase();
    if (seen.has(lower)) fail('forwardHeaders', `names ${header} twice`);
    seen.add(lower);
    const reason = neverForwardedReason(lower, secretHeader);
    if (reason !== undefined) fail('forwardHeaders', `must not name ${header}: ${reason}, never relayed`);
  }
}

function isHeaderName(value: unknown): value is string {
  return typeof value === 'string' && HEADER_NAME.test(value);
}

function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  // node:net's parsers, so that this accepts exactly what the function's allow-list (a net.BlockList) accepts.
  if (isIPv4(address)) return Number(bits) <= 32;
  return isIPv6(address) && Number(bits) <= 128;
}

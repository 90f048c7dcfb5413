import { isIPv4, isIPv6 } from 'node:net';

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
  | { readonly scheme: 'unauthenticated' };

export type SchemeName = SignatureScheme['scheme'];

export type SourceDeclaration = SignatureScheme & {
  /** Optional allow-list of CIDR blocks matched against the API Gateway source IP. */
  readonly allowCidrs?: readonly string[];
};

export type SourceDeclarations = Readonly<Record<string, SourceDeclaration>>;

/** A source name is one URL path segment: lower-case letters, digits and dashes, so no path tricks fit in it. */
export const SOURCE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

const SCHEMES: readonly SchemeName[] = [
  'github',
  'standard-webhooks',
  'stripe',
  'hmac-sha256',
  'basic',
  'unauthenticated',
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
  if (decl.allowCidrs !== undefined) {
    if (
      !Array.isArray(decl.allowCidrs) ||
      decl.allowCidrs.length === 0 ||
      !decl.allowCidrs.every((c) => typeof c === 'string' && isCidr(c))
    ) {
      throw new SourceDeclarationError(
        `sources.${name}.allowCidrs must be a non-empty list of CIDR blocks like 192.0.2.0/24 (omit it to allow any address)`,
      );
    }
  }
  if (decl.toleranceSeconds !== undefined) {
    const t = decl.toleranceSeconds;
    if (typeof t !== 'number' || !Number.isInteger(t) || t <= 0 || t > 3600) {
      throw new SourceDeclarationError(
        `sources.${name}.toleranceSeconds must be an integer between 1 and 3600`,
      );
    }
  }
  if (scheme === 'hmac-sha256') {
    if (typeof decl.header !== 'string' || !/^[A-Za-z0-9-]+$/.test(decl.header)) {
      throw new SourceDeclarationError(`sources.${name}.header must be an HTTP header name`);
    }
    if (decl.encoding !== 'hex' && decl.encoding !== 'base64') {
      throw new SourceDeclarationError(`sources.${name}.encoding must be "hex" or "base64"`);
    }
    if (decl.prefix !== undefined && typeof decl.prefix !== 'string') {
      throw new SourceDeclarationError(`sources.${name}.prefix must be a string`);
    }
  }
  return decl as SourceDeclaration;
}

function isCidr(value: string): boolean {
  const [address, bits, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined || bits === undefined || !/^\d{1,3}$/.test(bits)) return false;
  // node:net's parsers, so that this accepts exactly what the function's allow-list (a net.BlockList) accepts.
  if (isIPv4(address)) return Number(bits) <= 32;
  return isIPv6(address) && Number(bits) <= 128;
}

import { MSGRAPH_VALIDATION_PARAMETER } from './handshake/msgraph-validation';
import type { SourceDeclaration } from './source-declaration';
import type { InboundRequest } from './verify/types';

/**
 * The query string to append to ONEiO's receiver URL for an accepted request (without `?`; empty for none).
 * ONEiO's integration guides put meaning in query parameters (`…?issue.key=ABC-1`), so by default the sender's
 * query goes on; `forwardQuery: false` switches that off. A parameter used for authentication (the `token`
 * scheme's query parameter, Graph's `validationToken`) never goes on, in any spelling of its name. The parameters
 * that remain keep their order and their encoding exactly as received.
 */
export function forwardedQuery(
  request: Pick<InboundRequest, 'query'>,
  declaration: SourceDeclaration,
): string {
  if (declaration.forwardQuery === false || !request.query) return '';
  const secret = authenticationParameters(declaration);
  return request.query
    .split('&')
    .filter((pair) => pair !== '' && !secret.has(decodedName(pair).toLowerCase()))
    .join('&');
}

function authenticationParameters(declaration: SourceDeclaration): ReadonlySet<string> {
  if (declaration.scheme === 'token' && declaration.query !== undefined) {
    return new Set([declaration.query.toLowerCase()]);
  }
  if (declaration.scheme === 'msgraph') return new Set([MSGRAPH_VALIDATION_PARAMETER.toLowerCase()]);
  return new Set();
}

/** The parameter's name as `URLSearchParams` reads it, so `to%6Ben=…` is recognised as `token`. */
function decodedName(pair: string): string {
  const raw = pair.split('=', 1)[0] ?? '';
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    // Not valid percent-encoding: URLSearchParams keeps such a name as it is, and so does this.
    return raw;
  }
}

import { type Dispatcher, request } from 'undici';
import { TokenEndpointError } from '../../core/errors';
import type { ClientCredentials } from '../../ports/credentials-provider';
import type { IssuedToken, TokenEndpoint } from '../../ports/oneio';
import { errorCode } from '../error-code';

/** Token answers are small; anything larger is not a token answer and is not worth buffering. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * ONEiO's OAuth 2.0 token endpoint, client-credentials grant with the credentials in the form body
 * (`client_secret_post`), as ONEiO documents it. Error messages carry the status and the OAuth error code at most:
 * never the request (it holds the secret) nor the answer body (it may hold a token).
 */
export class OneioTokenEndpoint implements TokenEndpoint {
  constructor(
    private readonly url: string,
    private readonly dispatcher: Dispatcher,
  ) {}

  async requestToken(
    credentials: ClientCredentials,
    options: { signal?: AbortSignal },
  ): Promise<IssuedToken> {
    // URLSearchParams form-encodes every value, so secrets containing &, =, + or spaces arrive intact.
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
    }).toString();

    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.url, {
        method: 'POST',
        dispatcher: this.dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        ...(options.signal && { signal: options.signal }),
      });
    } catch (error) {
      throw new TokenEndpointError(`Token endpoint unreachable (${errorCode(error)})`, 'network', undefined, {
        cause: error,
      });
    }

    const text = await readLimited(response);
    const status = response.statusCode;
    if (status < 200 || status >= 300) throw rejection(status, text);
    return parseTokenAnswer(status, text);
  }
}

async function readLimited(response: Dispatcher.ResponseData): Promise<string | undefined> {
  const length = Number(response.headers['content-length']);
  if (Number.isFinite(length) && length > MAX_ANSWER_BYTES) {
    await response.body.dump();
    return undefined;
  }
  try {
    const text = await response.body.text();
    return text.length > MAX_ANSWER_BYTES ? undefined : text;
  } catch (error) {
    throw new TokenEndpointError(
      `Token endpoint answer could not be read (${errorCode(error)})`,
      'network',
      response.statusCode,
      { cause: error },
    );
  }
}

function rejection(status: number, text: string | undefined): TokenEndpointError {
  const code = oauthErrorCode(text);
  const detail = code ? ` (${code})` : '';
  if (code === 'invalid_client' || (status === 401 && code === undefined)) {
    return new TokenEndpointError(
      `Token endpoint rejected the client credentials: ${status}${detail}`,
      'invalid_client',
      status,
    );
  }
  const reason = status >= 500 || status === 429 || status === 408 ? 'server' : 'rejected';
  return new TokenEndpointError(`Token endpoint answered ${status}${detail}`, reason, status);
}

/** The RFC 6749 §5.2 `error` code, only when it looks like one (it is echoed into logs). */
function oauthErrorCode(text: string | undefined): string | undefined {
  try {
    const error = (JSON.parse(text ?? '') as { error?: unknown }).error;
    return typeof error === 'string' && /^[a-z_]{1,40}$/.test(error) ? error : undefined;
  } catch {
    return undefined;
  }
}

function parseTokenAnswer(status: number, text: string | undefined): IssuedToken {
  const malformed = (what: string) =>
    new TokenEndpointError(
      `Token endpoint answered ${status} with a malformed token: ${what}`,
      'malformed',
      status,
    );
  let answer: unknown;
  try {
    answer = JSON.parse(text ?? '');
  } catch {
    throw malformed('not JSON');
  }
  if (typeof answer !== 'object' || answer === null) throw malformed('not a JSON object');
  const { access_token, token_type, expires_in, scope } = answer as Record<string, unknown>;
  if (typeof access_token !== 'string' || access_token.length === 0) throw malformed('access_token missing');
  if (typeof token_type !== 'string' || token_type.toLowerCase() !== 'bearer') {
    throw malformed('token_type is not Bearer');
  }
  const seconds =
    typeof expires_in === 'string' && /^\d+$/.test(expires_in) ? Number(expires_in) : expires_in;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    throw malformed('expires_in missing or not a positive number');
  }
  return {
    accessToken: access_token,
    expiresInSeconds: seconds,
    ...(typeof scope === 'string' && { scope }),
  };
}

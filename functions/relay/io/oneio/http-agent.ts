import { Agent } from 'undici';

export interface HttpAgentOptions {
  /** TCP + TLS connect. @default 3_000 */
  readonly connectTimeoutMs?: number;
  /** Waiting for response headers, and between body chunks. @default 10_000 */
  readonly responseTimeoutMs?: number;
}

/**
 * The one undici Agent of an execution environment: keep-alive connections to ONEiO survive between invocations.
 * undici's defaults wait 300 s for headers and body, far past API Gateway's 30 s and a webhook sender's ~10 s,
 * so every phase gets an explicit, short timeout. Each request is further bounded by its caller's deadline.
 */
export function createHttpAgent(options: HttpAgentOptions = {}): Agent {
  const responseTimeout = options.responseTimeoutMs ?? 10_000;
  return new Agent({
    connect: { timeout: options.connectTimeoutMs ?? 3_000 },
    headersTimeout: responseTimeout,
    bodyTimeout: responseTimeout,
    // Lambda freezes between invocations; a socket idle longer than this is likely closed by the far side anyway.
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
  });
}

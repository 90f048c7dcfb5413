/**
 * A short, secret-free name for why a call failed: undici's stable `code` (UND_ERR_CONNECT_TIMEOUT,
 * UND_ERR_HEADERS_TIMEOUT, …), a system code (ECONNREFUSED, ECONNRESET) or the abort reason (TimeoutError).
 */
export function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) return code;
    if (current.name === 'TimeoutError' || current.name === 'AbortError') return current.name;
    current = current.cause;
  }
  return error instanceof Error ? error.name : 'UnknownError';
}

/**
 * The relay's error taxonomy. Every error has a stable `code` for logs and metrics; messages never contain a
 * secret, a token or a message body, so any of them may be logged as is.
 */

export abstract class RelayError extends Error {
  abstract readonly code: string;
}

/** The token endpoint refused or failed. `reason` says how, so callers can react (re-read a rotated secret). */
export class TokenEndpointError extends RelayError {
  override readonly name = 'TokenEndpointError';
  readonly code = 'TOKEN_ENDPOINT_FAILED';
  constructor(
    message: string,
    readonly reason: 'invalid_client' | 'rejected' | 'server' | 'malformed' | 'network',
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** No answer from the ONEiO receiver: connection refused or reset, DNS failure, timeout. Always transient. */
export class ReceiverNetworkError extends RelayError {
  override readonly name = 'ReceiverNetworkError';
  readonly code = 'RECEIVER_UNREACHABLE';
  /**
   * @param inDoubt the request may have reached ONEiO (it failed after the connection was made: a timeout waiting
   * for the answer, a reset): ONEiO may have taken the message, and may still be working on it.
   */
  constructor(
    message: string,
    readonly inDoubt: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** No usable token could be obtained in time (endpoint down, lease held by a stuck refresher, budget spent). */
export class TokenUnavailableError extends RelayError {
  override readonly name = 'TokenUnavailableError';
  readonly code = 'TOKEN_UNAVAILABLE';
  /** Epoch ms before which asking again is pointless (a backoff or a hold), when known. */
  readonly until: number | undefined;

  constructor(message: string, options?: ErrorOptions & { until?: number }) {
    super(message, options);
    this.until = options?.until;
  }
}

/** A secret could not be read or does not have the documented shape. Names the secret id, never its value. */
export class SecretError extends RelayError {
  override readonly name = 'SecretError';
  readonly code = 'SECRET_INVALID';
}

/**
 * A message names a ONEiO endpoint whose credential pair the credentials secret does not hold (no
 * `endpoints.<name>` in it). Nothing can be sent for it until an operator adds the pair: an operator's mistake to
 * surface at once, not a failure to wait out.
 */
export class OneioEndpointUnconfiguredError extends RelayError {
  override readonly name = 'OneioEndpointUnconfiguredError';
  readonly code = 'ONEIO_ENDPOINT_UNCONFIGURED';
  constructor(
    message: string,
    readonly endpoint: string,
  ) {
    super(message);
  }
}

/** The function's environment is missing or has an invalid variable. Fails the cold start, naming the variable. */
export class ConfigError extends RelayError {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
}

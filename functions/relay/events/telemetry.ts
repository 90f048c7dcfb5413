import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DestinationEvents } from '../core/destination/destination-gate';
import type { TokenEvents } from '../core/token/token-manager';
import type { SecretEvents } from '../io/secrets-manager/json-secret';

/** Structured logs (one JSON line per message) and CloudWatch embedded metrics. */
export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function count(telemetry: Telemetry, name: string): void {
  telemetry.metrics.addMetric(name, MetricUnit.Count, 1);
}

/**
 * Counts a refused signature twice in one EMF record: with its reason as a dimension (`missing_header`,
 * `bad_signature`, `stale_timestamp`, …), so an operator can tell a misconfigured secret from a probe, and with the
 * `service` dimension alone, the one series an alarm can watch (CloudWatch does not add up dimension values).
 * Published at once.
 */
export function countRejection(telemetry: Telemetry, reason: string): void {
  const metric = telemetry.metrics.singleMetric();
  metric.addDimension('reason', reason);
  // A second dimension set of no dimensions of its own: the defaults alone, i.e. `service`.
  metric.addDimensions({});
  metric.addMetric('WebhookUnauthorized', MetricUnit.Count, 1);
}

/**
 * Token lifecycle events as logs and metrics. Only error names and messages: our errors carry no secrets. The log
 * lines of a named ONEiO endpoint's token say which (`oneioEndpoint`); the default pair's lines are as they were.
 */
export function tokenTelemetry(telemetry: Telemetry, oneioEndpoint?: string): TokenEvents {
  const which = oneioEndpoint === undefined ? {} : { oneioEndpoint };
  return {
    storeUnavailable(error) {
      telemetry.logger.warn('Token store unavailable; using a token of this instance', {
        ...which,
        error: error.message,
      });
      count(telemetry, 'TokenStoreUnavailable');
    },
    refreshed({ shared, expiresInSeconds }) {
      telemetry.logger.info('Access token refreshed', { ...which, shared, expiresInSeconds });
      count(telemetry, 'TokenRefreshed');
    },
    refreshFailed(error, { fallback }) {
      telemetry.logger.warn('Access token refresh failed', { ...which, error: error.message, fallback });
      count(telemetry, 'TokenRefreshFailed');
    },
    refusalHold({ refusedTokens, holdSeconds }) {
      telemetry.logger.error(
        'ONEiO keeps refusing new access tokens (401): the ONEiO endpoint itself refuses (disabled?); ' +
          'no token invalidated or requested for a while, messages are queued',
        { ...which, refusedTokens, holdSeconds },
      );
      count(telemetry, 'TokenRefusalHold');
    },
  };
}

/** Secret reads as logs and metrics: the secret id and the error, never a value. */
export function secretTelemetry(telemetry: Telemetry): SecretEvents {
  return {
    stale({ secretId, ageSeconds, error }) {
      telemetry.logger.warn('Secret could not be read; using the last good value', {
        secretId,
        ageSeconds,
        error: error.message,
      });
      count(telemetry, 'SecretStale');
    },
  };
}

/**
 * State changes of the destination (backoff, breaker) as logs and metrics, from the one instance that made each
 * change: one line and one count per change fleet-wide, not one per message.
 */
export function destinationTelemetry(telemetry: Telemetry): DestinationEvents {
  const iso = (epochMs: number) => new Date(epochMs).toISOString();
  return {
    stateUnavailable(error) {
      telemetry.logger.warn('Destination state unavailable; going on with the last known state', {
        error: error.message,
      });
      count(telemetry, 'DestinationStateUnavailable');
    },
    backoffStarted({ until }) {
      telemetry.logger.warn('ONEiO asked to wait; deliveries held fleet-wide until then', {
        until: iso(until),
      });
      count(telemetry, 'BackoffStarted');
    },
    breakerOpened({ failures, openUntil }) {
      telemetry.logger.warn('Circuit breaker opened: ONEiO keeps failing; messages go to the outbox', {
        failures,
        probeFrom: iso(openUntil),
      });
      count(telemetry, 'BreakerOpened');
    },
    breakerClosed({ openForMs }) {
      telemetry.logger.info('Circuit breaker closed: the probe was delivered; deliveries resume', {
        openForSeconds: Math.round(openForMs / 1000),
      });
      count(telemetry, 'BreakerClosed');
    },
    breakerReopened({ openUntil, openForMs }) {
      telemetry.logger.warn('Circuit breaker open again: the probe failed', {
        probeFrom: iso(openUntil),
        openForSeconds: Math.round(openForMs / 1000),
      });
      count(telemetry, 'BreakerReopened');
    },
  };
}

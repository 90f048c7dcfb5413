import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { DestinationEvents } from '../core/destination/destination-gate';
import type { TokenEvents } from '../core/token/token-manager';

/** Structured logs (one JSON line per message) and CloudWatch embedded metrics. */
export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function count(telemetry: Telemetry, name: string): void {
  telemetry.metrics.addMetric(name, MetricUnit.Count, 1);
}

/**
 * Counts a refused signature with its reason as a dimension (`missing_header`, `bad_signature`, `stale_timestamp`,
 * …), so an operator can tell a misconfigured secret from a probe. Published at once, as its own EMF record.
 */
export function countRejection(telemetry: Telemetry, reason: string): void {
  const metric = telemetry.metrics.singleMetric();
  metric.addDimension('reason', reason);
  metric.addMetric('WebhookUnauthorized', MetricUnit.Count, 1);
}

/** Token lifecycle events as logs and metrics. Only error names and messages: our errors carry no secrets. */
export function tokenTelemetry(telemetry: Telemetry): TokenEvents {
  return {
    storeUnavailable(error) {
      telemetry.logger.warn('Token store unavailable; using a token of this instance', {
        error: error.message,
      });
      count(telemetry, 'TokenStoreUnavailable');
    },
    refreshed({ shared, expiresInSeconds }) {
      telemetry.logger.info('Access token refreshed', { shared, expiresInSeconds });
      count(telemetry, 'TokenRefreshed');
    },
    refreshFailed(error, { fallback }) {
      telemetry.logger.warn('Access token refresh failed', { error: error.message, fallback });
      count(telemetry, 'TokenRefreshFailed');
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

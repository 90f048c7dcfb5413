import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { SWEEP_EVENT } from '../contract';
import type { SweepReport } from '../core/outbox/sweep';
import type { Telemetry } from './telemetry';

/** The constant input of the outbox sweep schedule. */
export function isSweepEvent(event: unknown): boolean {
  const key = Object.keys(SWEEP_EVENT)[0] as keyof typeof SWEEP_EVENT;
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as Record<string, unknown>)[key] === SWEEP_EVENT[key]
  );
}

/** The metric every sweep publishes as it starts; infra/ alarms when it goes missing. */
export const SWEEP_HEARTBEAT_METRIC = 'OutboxSweepHeartbeat';

/** Time kept back from the function timeout for the last writes and the log line. */
const RESERVE_MS = 2_000;

/**
 * Runs one sweep of the outbox and reports it as a log line and metrics. Every sweep first publishes its heartbeat,
 * `OutboxSweepHeartbeat`, on its own and at once: nothing the sweep does afterwards (an empty outbox, DynamoDB
 * failing part-way, a timeout) can keep it back, so only a sweep that never started leaves it out, and that is what
 * the `OutboxSweepStopped` alarm watches for.
 */
export async function handleSweep(
  remainingMs: number,
  deps: { sweep: (deadline: number) => Promise<SweepReport>; telemetry: Telemetry; now: () => number },
): Promise<SweepReport> {
  const started = deps.now();
  const { metrics, logger } = deps.telemetry;
  metrics.singleMetric().addMetric(SWEEP_HEARTBEAT_METRIC, MetricUnit.Count, 1);
  const report = await deps.sweep(started + remainingMs - RESERVE_MS);
  metrics.addMetric('OutboxDelivered', MetricUnit.Count, report.delivered);
  metrics.addMetric('OutboxRetried', MetricUnit.Count, report.rescheduled);
  metrics.addMetric('OutboxParked', MetricUnit.Count, report.parked);
  metrics.addMetric('DeliveryInDoubt', MetricUnit.Count, report.inDoubt);
  metrics.addMetric('OutboxSweepErrors', MetricUnit.Count, report.errors);
  // A gauge, not a count: the parked alarm stays red until an operator has redriven or purged every parked item.
  // Left out when this sweep could not count (time or DynamoDB): the alarm ignores a missing point.
  if (report.parkedItems !== undefined) {
    metrics.addMetric('OutboxParkedItems', MetricUnit.Count, report.parkedItems);
  }
  metrics.addMetric(
    'OutboxOldestDueAge',
    MetricUnit.Seconds,
    Math.round((report.oldestDueAgeMs ?? 0) / 1000),
  );
  // Gauges of the destination, one point per sweep (once a minute): what the pause and breaker alarms watch.
  metrics.addMetric('DeliveriesPaused', MetricUnit.Count, report.paused ? 1 : 0);
  metrics.addMetric('BreakerOpenAge', MetricUnit.Seconds, Math.round(report.breakerOpenMs / 1000));
  if (report.legacyItems !== undefined) {
    metrics.addMetric('OutboxLegacyItems', MetricUnit.Count, report.legacyItems);
  }
  const log = report.errors > 0 ? logger.warn.bind(logger) : logger.info.bind(logger);
  // `held` says why nothing (or not everything) was sent: paused, backoff or breaker.
  log('Outbox swept', { ...report, latencyMs: deps.now() - started });
  return report;
}

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { vi } from 'vitest';
import type { Telemetry } from '../../functions/relay/events/telemetry';

export interface CapturedTelemetry {
  readonly telemetry: Telemetry;
  /** Every line written to stdout or stderr since creation, as written. */
  readonly output: () => string;
  /** The structured log lines, parsed (EMF metric records left out). */
  readonly logs: () => Array<Record<string, unknown>>;
  /** Names of the metrics added, in order: buffered ones, then those already published as single EMF records. */
  readonly metricNames: () => string[];
  /** The dimensions of each published EMF record. */
  readonly metricDimensions: () => Array<Record<string, unknown>>;
}

/**
 * The real Powertools Logger and Metrics, with what they print captured: asserting on the serialised output is
 * what proves that no body or secret reaches CloudWatch. Restore with `vi.restoreAllMocks()`.
 */
export function captureTelemetry(): CapturedTelemetry {
  const written: string[] = [];
  const capture = (chunk: string | Uint8Array): boolean => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);

  const logger = new Logger({ serviceName: 'test' });
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'test' });
  const addMetric = vi.spyOn(metrics, 'addMetric');

  return {
    telemetry: { logger, metrics },
    output: () => written.join(''),
    logs: () =>
      written
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{') && !line.includes('"_aws"'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    metricNames: () => [
      ...addMetric.mock.calls.map(([name]) => name),
      ...emfRecords(written).flatMap((record) => record.names),
    ],
    metricDimensions: () => emfRecords(written).map((record) => record.dimensions),
  };
}

/** EMF records (CloudWatch embedded metric format) among the written lines. */
function emfRecords(
  written: readonly string[],
): Array<{ names: string[]; dimensions: Record<string, unknown> }> {
  return written
    .join('')
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => {
      const record = JSON.parse(line) as {
        _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][]; Metrics: Array<{ Name: string }> }> };
      } & Record<string, unknown>;
      const directive = record._aws.CloudWatchMetrics[0];
      const dimensions = Object.fromEntries(
        (directive?.Dimensions[0] ?? []).map((name) => [name, record[name]]),
      );
      return { names: (directive?.Metrics ?? []).map((m) => m.Name), dimensions };
    });
}

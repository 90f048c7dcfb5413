import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { vi } from 'vitest';
import type { Telemetry } from '../../functions/relay/events/telemetry';

export interface CapturedTelemetry {
  readonly telemetry: Telemetry;
  /** Every line written to stdout or stderr since creation, as written. */
  readonly output: () => string;
  /** The structured log lines, parsed. */
  readonly logs: () => Array<Record<string, unknown>>;
  /** Names of the metrics added, in order. */
  readonly metricNames: () => string[];
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
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    metricNames: () => addMetric.mock.calls.map(([name]) => name),
  };
}

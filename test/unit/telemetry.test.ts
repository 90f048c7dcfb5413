import { afterEach, describe, expect, it, vi } from 'vitest';
import { countRejection } from '../../functions/relay/events/telemetry';
import { captureTelemetry } from './capturing-telemetry';
import { emfRecords } from './emf-records';

describe('countRejection', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('publishes one record that counts the refusal by reason and by service alone', () => {
    // Prepare
    const captured = captureTelemetry();

    // Act
    countRejection(captured.telemetry, 'bad_signature');

    // Assess: the service-only set is the series the WebhooksUnauthorized alarm watches; an alarm cannot add up
    // the per-reason series.
    expect(emfRecords(captured.output())).toEqual([
      {
        namespace: 'Test',
        dimensionSets: [['service', 'reason'], ['service']],
        metrics: ['WebhookUnauthorized'],
        fields: { service: 'test', reason: 'bad_signature', WebhookUnauthorized: 1 },
      },
    ]);
  });

  it('publishes at once, leaving nothing buffered for the invocation to flush', () => {
    // Prepare
    const captured = captureTelemetry();

    // Act
    countRejection(captured.telemetry, 'missing_header');

    // Assess
    expect(captured.telemetry.metrics.hasStoredMetrics()).toBe(false);
    expect(emfRecords(captured.output())).toHaveLength(1);
  });
});

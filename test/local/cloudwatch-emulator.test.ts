import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  paginateDescribeAlarms,
} from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CloudWatchEmulator, startCloudWatchEmulator } from '../../infra/local/cloudwatch-emulator';

const MINUTE = 60_000;

/** The real CloudWatch client against the stand-in: if the protocol were off, the SDK would fail to parse. */
describe('CloudWatch emulator', () => {
  let cloudwatch: CloudWatchEmulator;
  let client: CloudWatchClient;

  beforeAll(async () => {
    cloudwatch = await startCloudWatchEmulator();
    client = new CloudWatchClient({
      endpoint: cloudwatch.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client.destroy();
    await cloudwatch.close();
  });

  it('describes alarms by name prefix and state, with the time their state changed', async () => {
    // Prepare
    const since = new Date('2025-05-01T12:00:00.000Z');
    cloudwatch.setAlarm({
      name: 'OneioRelay-qa-OutboxParked-1',
      state: 'ALARM',
      updatedAt: since,
      reason: 'parked',
    });
    cloudwatch.setAlarm({ name: 'OneioRelay-qa-FunctionErrors-2', state: 'OK' });
    cloudwatch.setAlarm({ name: 'OneioRelay-prod-OutboxParked-3', state: 'ALARM' });

    // Act
    const inAlarm = await client.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: 'OneioRelay-qa-', StateValue: 'ALARM' }),
    );
    const all = await client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: 'OneioRelay-qa-' }));

    // Assess
    expect(inAlarm.MetricAlarms?.map((a) => [a.AlarmName, a.StateValue, a.StateReason])).toEqual([
      ['OneioRelay-qa-OutboxParked-1', 'ALARM', 'parked'],
    ]);
    expect(inAlarm.MetricAlarms?.[0]?.StateUpdatedTimestamp).toEqual(since);
    expect(all.MetricAlarms?.map((a) => a.AlarmName)).toEqual([
      'OneioRelay-qa-FunctionErrors-2',
      'OneioRelay-qa-OutboxParked-1',
    ]);
    expect(cloudwatch.calls.DescribeAlarms).toBeGreaterThanOrEqual(2);
  });

  it('pages alarms with NextToken, as the SDK paginator follows it', async () => {
    for (let i = 0; i < 7; i++) cloudwatch.setAlarm({ name: `paged-${i}`, state: 'OK' });

    const names: string[] = [];
    for await (const page of paginateDescribeAlarms({ client, pageSize: 3 }, { AlarmNamePrefix: 'paged-' })) {
      expect(page.MetricAlarms?.length).toBeLessThanOrEqual(3);
      names.push(...(page.MetricAlarms ?? []).map((a) => a.AlarmName ?? ''));
    }

    expect(names).toEqual(['paged-0', 'paged-1', 'paged-2', 'paged-3', 'paged-4', 'paged-5', 'paged-6']);
  });

  it('sums datapoints of exactly the dimensions asked into aligned periods, newest first', async () => {
    // Prepare: two points in one minute, one in another, and one of another service that must not count.
    const base = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
    const put = (offsetMs: number, value: number, service = 'oneio-relay-qa') =>
      cloudwatch.putDatapoint({
        namespace: 'OneioRelay',
        metricName: 'MessageDelivered',
        dimensions: { service },
        timestamp: new Date(base + offsetMs),
        value,
      });
    put(1_000, 1);
    put(30_000, 2);
    put(3 * MINUTE + 5_000, 1);
    put(2 * MINUTE, 5, 'oneio-relay-prod');

    // Act
    const answer = await client.send(
      new GetMetricDataCommand({
        StartTime: new Date(base - MINUTE),
        EndTime: new Date(base + 10 * MINUTE),
        MetricDataQueries: [
          {
            Id: 'delivered',
            MetricStat: {
              Metric: {
                Namespace: 'OneioRelay',
                MetricName: 'MessageDelivered',
                Dimensions: [{ Name: 'service', Value: 'oneio-relay-qa' }],
              },
              Period: 60,
              Stat: 'Sum',
            },
          },
          {
            Id: 'nodimension',
            MetricStat: {
              Metric: { Namespace: 'OneioRelay', MetricName: 'MessageDelivered' },
              Period: 60,
              Stat: 'Sum',
            },
          },
        ],
      }),
    );

    // Assess
    const [delivered, none] = answer.MetricDataResults ?? [];
    expect(delivered?.Timestamps).toEqual([new Date(base + 3 * MINUTE), new Date(base)]);
    expect(delivered?.Values).toEqual([1, 3]);
    expect(delivered?.StatusCode).toBe('Complete');
    expect(none?.Values).toEqual([]);
  });

  it('answers a bad request with the error CloudWatch gives, as the SDK names it', async () => {
    const failed = client.send(
      new GetMetricDataCommand({
        StartTime: new Date(),
        EndTime: new Date(Date.now() - MINUTE),
        MetricDataQueries: [{ Id: 'q', Expression: 'SUM(METRICS())' }],
      }),
    );

    await expect(failed).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
      message: 'The parameter StartTime must be less than EndTime.',
      $metadata: { httpStatusCode: 400 },
    });
  });
});

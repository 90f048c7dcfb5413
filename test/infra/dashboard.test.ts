import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prod, qa } from '../../infra/config';
import { onlyResource, type SynthesizedRelay, synthRelayApp } from './relay-app';

// Both stacks from the real config, built once for the whole file (loading aws-cdk-lib is the slow part).
const [qaStack, prodStack] = synthRelayApp() as [SynthesizedRelay, SynthesizedRelay];
const both = [
  { name: 'qa', config: qa, s: qaStack },
  { name: 'prod', config: prod, s: prodStack },
] as const;

interface Widget {
  type: string;
  width: number;
  properties: {
    title: string;
    metrics?: unknown[][];
    alarms?: string[];
    annotations?: { horizontal?: { value: number; label: string }[] };
  };
}

/**
 * The dashboard body as CloudWatch will read it. The template holds it as a join of strings and references; each
 * reference becomes `«<its JSON>»`, so the body parses and a widget's reference can be compared with the
 * resource it should name.
 */
function dashboardBody(s: SynthesizedRelay): { widgets: Widget[] } {
  const body = onlyResource(s.template, 'AWS::CloudWatch::Dashboard').Properties.DashboardBody as {
    'Fn::Join': [string, unknown[]];
  };
  const text = body['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : `«${JSON.stringify(part).replaceAll('"', "'")}»`))
    .join('');
  return JSON.parse(text) as { widgets: Widget[] };
}

/** A reference as {@link dashboardBody} writes it. */
const ref = (s: SynthesizedRelay, token: unknown) =>
  `«${JSON.stringify(s.resolve(token)).replaceAll('"', "'")}»`;

/** `[namespace, name, dim, value, …, options?]` rows of the graph widgets, options left out. */
function metricRows(widgets: Widget[]): { title: string; row: unknown[] }[] {
  return widgets.flatMap((w) =>
    (w.properties.metrics ?? []).map((row) => ({
      title: w.properties.title,
      row: row.filter((cell) => typeof cell === 'string'),
    })),
  );
}

/** The metric names the function code spells out (every `.ts` file under functions/relay, as text). */
const FUNCTION_SOURCE = (function readAll(dir: string): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((entry) => {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) return readAll(file);
      return entry.name.endsWith('.ts') ? readFileSync(file, 'utf8') : '';
    })
    .join('\n');
})(path.join(__dirname, '..', '..', 'functions', 'relay'));

/**
 * Metrics the dashboard may show although no function code publishes them yet: announced by the change that will
 * (deliveries whose answer was lost or late), so the dashboard row is ready for it.
 */
const ANNOUNCED = ['DeliveryInDoubt'];

describe('dashboard', () => {
  it.each(both)('$name is named OneioRelay-$name', ({ name, s }) => {
    expect(onlyResource(s.template, 'AWS::CloudWatch::Dashboard').Properties.DashboardName).toBe(
      `OneioRelay-${name}`,
    );
  });

  it.each(both)('$name has the widgets on-call reads, in this order', ({ s }) => {
    expect(dashboardBody(s).widgets.map((w) => w.properties.title)).toEqual([
      'Alarms',
      'Messages by outcome (per 5 min)',
      'Webhook latency as senders see it (ms)',
      'Webhook API requests and error answers (per 5 min)',
      'Refused webhooks (per 5 min)',
      'ONEiO token and DynamoDB fallbacks (per 5 min)',
      'Outbox: oldest due message and parked messages',
      'Outbox sweeps (per 5 min)',
      'Deliveries in doubt (per 5 min)',
      'ONEiO breaker and pause, as each sweep saw them',
      'ONEiO backoff and breaker changes (per 5 min)',
      'Relay function: invocations, errors, throttles (per 5 min)',
      'Relay function: concurrency and duration',
    ]);
  });

  it.each(both)('$name shows the state of every alarm of the stack', ({ s }) => {
    const [strip] = dashboardBody(s).widgets;
    const alarms = Object.keys(s.template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    expect(strip?.properties.alarms).toEqual(alarms.map((id) => ref(s, { 'Fn::GetAtt': [id, 'Arn'] })));
  });

  // A graph of a metric nobody publishes, or with a dimension the function does not set, stays empty forever and
  // looks like "all quiet".
  it.each(both)(
    '$name graphs the relay metrics the function publishes, by its service name',
    ({ name, s }) => {
      const rows = metricRows(dashboardBody(s).widgets).filter(({ row }) => row[0] === 'OneioRelay');
      const names = rows.map(({ row }) => row[1] as string);
      expect(new Set(names)).toEqual(
        new Set([
          'MessageDelivered',
          'MessageQueued',
          'MessageParked',
          'MessageFailed',
          'MessageDuplicate',
          'WebhookUnauthorized',
          'WebhookRefused',
          'TokenRefreshed',
          'TokenRefreshFailed',
          'TokenStoreUnavailable',
          'TokenRefusalHold',
          'SecretStale',
          'DedupStoreUnavailable',
          'OutboxOldestDueAge',
          'OutboxParkedItems',
          'OutboxDelivered',
          'OutboxRetried',
          'OutboxParked',
          'OutboxSweepHeartbeat',
          'DeliveryInDoubt',
          'BreakerOpenAge',
          'DeliveriesPaused',
          'BackoffStarted',
          'BreakerOpened',
          'BreakerReopened',
          'BreakerClosed',
          'DestinationStateUnavailable',
        ]),
      );
      for (const { row } of rows) expect(row.slice(2)).toEqual(['service', `oneio-relay-${name}`]);
      for (const metric of names.filter((n) => !ANNOUNCED.includes(n))) {
        // `Message<Status>` is composed from the outcome's status in app.ts.
        const spelled = metric.startsWith('Message')
          ? FUNCTION_SOURCE.includes('`Message${') &&
            FUNCTION_SOURCE.includes(`'${metric.slice(7).toLowerCase()}'`)
          : FUNCTION_SOURCE.includes(`'${metric}'`);
        expect(spelled, metric).toBe(true);
      }
    },
  );

  it.each(both)('$name breaks signature refusals down by reason with a search', ({ name, s }) => {
    const refused = dashboardBody(s).widgets.find((w) => w.properties.title.startsWith('Refused webhooks'));
    const expressions = (refused?.properties.metrics ?? []).flatMap((row) =>
      row.filter(
        (cell): cell is { expression: string } =>
          typeof cell === 'object' && cell !== null && 'expression' in cell,
      ),
    );
    expect(expressions.map((e) => e.expression)).toEqual([
      `SEARCH('{OneioRelay,reason,service} MetricName="WebhookUnauthorized" service="oneio-relay-${name}"', 'Sum', 300)`,
    ]);
  });

  it.each(both)("$name graphs its own function's and API's metrics", ({ s }) => {
    // The search expression row names no namespace of its own.
    const rows = metricRows(dashboardBody(s).widgets).filter(
      ({ row }) => row.length > 0 && row[0] !== 'OneioRelay',
    );
    const byNamespace = (namespace: string) =>
      rows.filter(({ row }) => row[0] === namespace).map(({ row }) => row.slice(1));
    const fn = ref(s, s.stack.relay.handler.functionName);
    expect(byNamespace('AWS/Lambda')).toEqual([
      ['Invocations', 'FunctionName', fn],
      ['Errors', 'FunctionName', fn],
      ['Throttles', 'FunctionName', fn],
      ['ConcurrentExecutions', 'FunctionName', fn],
      ['Duration', 'FunctionName', fn],
      ['Duration', 'FunctionName', fn],
    ]);
    const api = ref(s, s.stack.relay.api.apiId);
    expect(byNamespace('AWS/ApiGateway')).toEqual([
      ['Latency', 'ApiId', api],
      ['Latency', 'ApiId', api],
      ['IntegrationLatency', 'ApiId', api],
      ['IntegrationLatency', 'ApiId', api],
      ['Count', 'ApiId', api],
      ['4xx', 'ApiId', api],
      ['5xx', 'ApiId', api],
    ]);
    expect(rows).toHaveLength(13);
  });

  it.each(both)('$name shows latency and duration at p50 and p99', ({ s }) => {
    const stats = dashboardBody(s)
      .widgets.flatMap((w) => w.properties.metrics ?? [])
      .filter((row) => row[1] === 'Latency' || row[1] === 'IntegrationLatency' || row[1] === 'Duration')
      .map((row) => `${row[1]} ${(row.at(-1) as { stat: string }).stat}`);
    expect(stats).toEqual([
      'Latency p50',
      'Latency p99',
      'IntegrationLatency p50',
      'IntegrationLatency p99',
      'Duration p50',
      'Duration p99',
    ]);
  });

  it.each(both)(
    '$name draws the reserved concurrency on the concurrency graph when there is one',
    ({ config, s }) => {
      const concurrency = dashboardBody(s).widgets.at(-1);
      expect(concurrency?.properties.annotations?.horizontal ?? []).toEqual(
        config.reservedConcurrency === undefined
          ? []
          : [expect.objectContaining({ value: config.reservedConcurrency, label: 'reserved concurrency' })],
      );
    },
  );
});

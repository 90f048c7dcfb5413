import { Duration, Stack } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type GraphWidgetProps,
  type IMetric,
  MathExpression,
  Metric,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { SWEEP_HEARTBEAT_METRIC } from '../../functions/relay/events/sweep-handler';

export interface RelayDashboardProps {
  /** `OneioRelay-<env>`: dashboard names are unique per account, and QA and PROD may share one. */
  readonly dashboardName: string;
  readonly handler: IFunction;
  readonly api: HttpApi;
  /** Namespace of the relay's own metrics (the function's POWERTOOLS_METRICS_NAMESPACE). */
  readonly metricsNamespace: string;
  /** Value of their `service` dimension (the function's POWERTOOLS_SERVICE_NAME). */
  readonly serviceName: string;
  /** Drawn as a line on the concurrency graph. @default - no line */
  readonly reservedConcurrency?: number;
  /** Shown as a status strip on top. */
  readonly alarms: readonly Alarm[];
}

/** The same period as the alarms, so a graph shows exactly what an alarm evaluated. */
const PERIOD = Duration.minutes(5);
const WIDTH = 12;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard per environment: alarm states, then what the relay does with messages, how fast senders
 * are answered, the token, the outbox, refused signatures, and the function's own health. The README explains
 * each widget; the order of the rows is the order in which on-call reads them.
 */
export class RelayDashboard extends Construct {
  readonly dashboard: Dashboard;
  /** The console address of the dashboard, for the stack output. */
  readonly consoleUrl: string;

  constructor(scope: Construct, id: string, props: RelayDashboardProps) {
    super(scope, id);
    const relay = (metricName: string, label: string, statistic = 'Sum') =>
      new Metric({
        namespace: props.metricsNamespace,
        metricName,
        dimensionsMap: { service: props.serviceName },
        period: PERIOD,
        statistic,
        label,
      });
    const graph = (title: string, left: IMetric[], extra: Partial<GraphWidgetProps> = {}) =>
      new GraphWidget({ title, left, width: WIDTH, height: HEIGHT, ...extra });

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(6),
    });

    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 2 * WIDTH, height: 3 }),
    );
    this.dashboard.addWidgets(
      graph(
        'Messages by outcome (per 5 min)',
        [
          relay('MessageDelivered', 'delivered'),
          relay('MessageQueued', 'queued to the outbox'),
          relay('MessageParked', 'parked (refused by ONEiO)'),
          relay('MessageFailed', 'failed (neither delivered nor kept)'),
          relay('MessageDuplicate', 'duplicate (not sent again)'),
        ],
        { stacked: true },
      ),
      graph('Webhook latency as senders see it (ms)', [
        props.api.metricLatency({ period: PERIOD, statistic: 'p50', label: 'answer p50' }),
        props.api.metricLatency({ period: PERIOD, statistic: 'p99', label: 'answer p99' }),
        props.api.metricIntegrationLatency({ period: PERIOD, statistic: 'p50', label: 'function p50' }),
        props.api.metricIntegrationLatency({ period: PERIOD, statistic: 'p99', label: 'function p99' }),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Webhook API requests and error answers (per 5 min)',
        [props.api.metricCount({ period: PERIOD, statistic: 'Sum', label: 'requests' })],
        {
          right: [
            props.api.metricClientError({ period: PERIOD, statistic: 'Sum', label: '4xx' }),
            props.api.metricServerError({ period: PERIOD, statistic: 'Sum', label: '5xx' }),
          ],
        },
      ),
      graph('Refused webhooks (per 5 min)', [
        relay('WebhookUnauthorized', 'unauthorized (all reasons)'),
        // One line per reason (bad_signature, missing_header, stale_timestamp, …): a search, since the reasons
        // are whatever the verifiers report.
        new MathExpression({
          expression:
            `SEARCH('{${props.metricsNamespace},reason,service} MetricName="WebhookUnauthorized" ` +
            `service="${props.serviceName}"', 'Sum', ${PERIOD.toSeconds()})`,
          label: '',
          period: PERIOD,
          usingMetrics: {},
        }),
        relay('WebhookRefused', 'refused otherwise (404, 413, 415, 400)'),
      ]),
    );
    this.dashboard.addWidgets(
      graph('ONEiO token and DynamoDB fallbacks (per 5 min)', [
        relay('TokenRefreshed', 'token refreshed'),
        relay('TokenRefreshFailed', 'token refresh failed'),
        relay('TokenStoreUnavailable', 'token store unavailable'),
        relay('TokenRefusalHold', 'every new token refused (hold)'),
        relay('SecretStale', 'secrets read failed, last values in use'),
        relay('DedupStoreUnavailable', 'de-duplication store unavailable'),
      ]),
      graph(
        'Outbox: oldest due message and parked messages',
        [relay('OutboxOldestDueAge', 'oldest due message, age (s)', 'Maximum')],
        { right: [relay('OutboxParkedItems', 'parked messages', 'Maximum')] },
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Outbox sweeps (per 5 min)',
        [
          relay('OutboxDelivered', 'delivered from the outbox'),
          relay('OutboxRetried', 'retried, still due'),
          relay('OutboxParked', 'parked by the sweep'),
        ],
        { right: [relay(SWEEP_HEARTBEAT_METRIC, 'sweeps started')] },
      ),
      graph('Deliveries in doubt (per 5 min)', [relay('DeliveryInDoubt', 'in doubt (answer lost or late)')]),
    );
    this.dashboard.addWidgets(
      graph(
        'ONEiO breaker and pause, as each sweep saw them',
        [relay('BreakerOpenAge', 'breaker open for (s)', 'Maximum')],
        { right: [relay('DeliveriesPaused', 'paused (1)', 'Maximum')] },
      ),
      graph('ONEiO backoff and breaker changes (per 5 min)', [
        relay('BackoffStarted', 'ONEiO asked to wait (Retry-After)'),
        relay('BreakerOpened', 'breaker opened'),
        relay('BreakerReopened', 'probe failed, open again'),
        relay('BreakerClosed', 'probe delivered, closed'),
        relay('DestinationStateUnavailable', 'destination state unavailable'),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Relay function: invocations, errors, throttles (per 5 min)',
        [props.handler.metricInvocations({ period: PERIOD, statistic: 'Sum', label: 'invocations' })],
        {
          right: [
            props.handler.metricErrors({ period: PERIOD, statistic: 'Sum', label: 'errors' }),
            props.handler.metricThrottles({ period: PERIOD, statistic: 'Sum', label: 'throttles' }),
          ],
        },
      ),
      graph(
        'Relay function: concurrency and duration',
        [
          props.handler.metric('ConcurrentExecutions', {
            period: PERIOD,
            statistic: 'Maximum',
            label: 'concurrent',
          }),
        ],
        {
          right: [
            props.handler.metricDuration({ period: PERIOD, statistic: 'p50', label: 'duration p50 (ms)' }),
            props.handler.metricDuration({ period: PERIOD, statistic: 'p99', label: 'duration p99 (ms)' }),
          ],
          ...(props.reservedConcurrency !== undefined && {
            leftAnnotations: [{ value: props.reservedConcurrency, label: 'reserved concurrency' }],
          }),
        },
      ),
    );

    const region = Stack.of(this).region;
    this.consoleUrl =
      `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}` +
      `#dashboards/dashboard/${this.dashboard.dashboardName}`;
  }
}

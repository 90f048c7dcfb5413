import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface RelayAlarmsProps {
  readonly environmentName: string;
  readonly handler: IFunction;
  readonly api: HttpApi;
  readonly deadLetterQueue: IQueue;
  /** Namespace of the relay's own metrics (the function's POWERTOOLS_METRICS_NAMESPACE). */
  readonly metricsNamespace: string;
  /** Value of their `service` dimension (the function's POWERTOOLS_SERVICE_NAME): this environment's metrics only. */
  readonly serviceName: string;
  /** Threshold of the {@link RelayAlarms.outboxOverdue} alarm. */
  readonly outboxAgeAlarmMinutes: number;
  /** Threshold of the {@link RelayAlarms.breakerOpen} alarm. @default 15 */
  readonly breakerOpenAlarmMinutes?: number;
  /** @default - no subscription */
  readonly alarmEmail?: string;
}

const PERIOD = Duration.minutes(5);

/**
 * The conditions an operator must hear about, each alarming on the first occurrence (the outbox age on its
 * threshold): the relay is built so that none of them happens in normal operation.
 */
export class RelayAlarms extends Construct {
  readonly topic: Topic;
  readonly functionErrors: Alarm;
  readonly functionThrottles: Alarm;
  readonly apiServerErrors: Alarm;
  readonly deadLetters: Alarm;
  /** Parked outbox items wait for an operator; stays in alarm until they are redriven or purged. */
  readonly outboxParked: Alarm;
  /** A message due for a retry has waited longer than `outboxAgeAlarmMinutes`. */
  readonly outboxOverdue: Alarm;
  /** A message was neither delivered nor kept. */
  readonly messagesFailed: Alarm;
  /** The ONEiO token endpoint refused or failed a refresh. */
  readonly tokenRefreshFailed: Alarm;
  /** The circuit breaker in front of ONEiO has stayed open longer than `breakerOpenAlarmMinutes`. */
  readonly breakerOpen: Alarm;
  /** An operator paused deliveries (`oneio-relay pause`): nothing reaches ONEiO until resumed. */
  readonly deliveriesPaused: Alarm;

  constructor(scope: Construct, id: string, props: RelayAlarmsProps) {
    super(scope, id);
    // Not encrypted: CloudWatch cannot publish to a topic under the AWS-managed aws/sns key, and alarm
    // notifications carry alarm names and metric values only, never message content.
    this.topic = new Topic(this, 'Topic', {
      displayName: `oneio-relay ${props.environmentName} alarms`,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    }

    this.functionErrors = this.alarm('FunctionErrors', {
      metric: props.handler.metricErrors({ period: PERIOD, statistic: 'Sum' }),
      description:
        'The relay function failed an invocation (unhandled error or timeout). Webhook senders got a 5xx; ' +
        'EventBridge events are retried by Lambda and then land in the dead-letter queue. Read the function logs.',
    });
    this.functionThrottles = this.alarm('FunctionThrottles', {
      metric: props.handler.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
      description:
        'Lambda refused invocations of the relay for lack of concurrency (reserved concurrency or account ' +
        'limit). Webhook senders got an error answer and must retry; raise reservedConcurrency or the quota.',
    });
    this.apiServerErrors = this.alarm('ApiServerErrors', {
      metric: props.api.metricServerError({ period: PERIOD, statistic: 'Sum' }),
      description:
        'The webhook API answered 5xx: the relay could neither deliver nor queue a webhook (503), or the ' +
        'function failed (502/500). Senders that do not retry have lost those messages.',
    });
    this.deadLetters = this.alarm('DeadLetters', {
      metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: PERIOD,
        statistic: 'Maximum',
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description:
        'EventBridge events the relay could not take: every retry failed. They wait in the dead-letter queue ' +
        '(14 days); inspect and redrive them once the cause is fixed.',
    });

    // The relay's own metrics. Every environment publishes to one namespace; the service dimension tells them
    // apart, and a metric is only matched with exactly the dimensions Powertools gives it (service alone).
    const relayMetric = (metricName: string, statistic: 'Sum' | 'Maximum') =>
      new Metric({
        namespace: props.metricsNamespace,
        metricName,
        dimensionsMap: { service: props.serviceName },
        period: PERIOD,
        statistic,
      });

    // Gauges written by every sweep (once a minute). Missing data means the sweep did not run, which the
    // function alarms report; it must not leave these two red or flip them on its own.
    this.outboxParked = this.alarm('OutboxParked', {
      metric: relayMetric('OutboxParkedItems', 'Maximum'),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description:
        'Parked outbox items are waiting for an operator: ONEiO refused them (4xx) or they were not delivered ' +
        'within the maximum age. List them with `npx oneio-relay outbox list --env <env> --parked`, then ' +
        '`redrive` or `purge` them; the alarm clears once none is left.',
    });
    this.outboxOverdue = this.alarm('OutboxOverdue', {
      metric: relayMetric('OutboxOldestDueAge', 'Maximum'),
      threshold: props.outboxAgeAlarmMinutes * 60,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description:
        `A message due for a retry was received more than ${props.outboxAgeAlarmMinutes} minutes ago: ONEiO ` +
        'has not taken it since. Check the function logs (token or receiver errors) and ONEiO; the outbox keeps ' +
        'retrying until the maximum age, then parks the message.',
    });
    // Cheap (two more alarms) and specific. ApiServerErrors mixes a 503 with function crashes and never sees the
    // EventBridge path; MessageFailed counts exactly the messages the relay could neither deliver nor write to
    // the outbox (webhook sender answered 503, EventBridge event handed back to Lambda's retries).
    this.messagesFailed = this.alarm('MessagesFailed', {
      metric: relayMetric('MessageFailed', 'Sum'),
      description:
        'Messages were neither delivered nor kept in the outbox (usually ONEiO and DynamoDB failing together): ' +
        'webhook senders got a 503 and must retry; EventBridge events are retried by Lambda, then dead-lettered.',
    });
    // The earliest sign of wrong ONEiO credentials or a token endpoint outage: a refresh is rare (one fleet-wide
    // per token lifetime, the secret already re-read once on invalid_client), so one failure is worth a look
    // before the outbox age alarm fires an hour later.
    this.tokenRefreshFailed = this.alarm('TokenRefreshFailed', {
      metric: relayMetric('TokenRefreshFailed', 'Sum'),
      description:
        'The ONEiO token endpoint refused or failed a token request. invalid_client in the function logs: put the ' +
        "right client_id/client_secret in the credentials secret. Otherwise check ONEiO's status; the relay keeps " +
        'its current token while it lasts and queues what it cannot deliver.',
    });
    const destination = this.destinationAlarms(props, (name) => relayMetric(name, 'Maximum'));
    this.breakerOpen = destination.breakerOpen;
    this.deliveriesPaused = destination.deliveriesPaused;
  }

  /**
   * The destination's two gauges, written by every sweep (once a minute) like the outbox ones. The breaker opening
   * is normal during a short ONEiO blip (the outbox keeps the messages); staying open is an outage worth a person.
   * A pause is deliberate, and alarms anyway so that nobody forgets one.
   */
  private destinationAlarms(props: RelayAlarmsProps, relayMetric: (name: string) => Metric) {
    const minutes = props.breakerOpenAlarmMinutes ?? 15;
    const breakerOpen = this.alarm('BreakerOpen', {
      metric: relayMetric('BreakerOpenAge'),
      threshold: minutes * 60,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      description:
        `The circuit breaker in front of ONEiO has been open for more than ${minutes} minutes: ONEiO failed ` +
        'every probe since. Messages wait in the outbox and nothing is lost; check ONEiO and the function logs ' +
        '(the last receiver errors). The breaker closes by itself at the first probe ONEiO takes.',
    });
    const deliveriesPaused = this.alarm('DeliveriesPaused', {
      metric: relayMetric('DeliveriesPaused'),
      description:
        'Deliveries to ONEiO are paused by an operator: messages are accepted and queued, nothing is sent. ' +
        '`npx oneio-relay status --env <env>` says by whom, why and until when; `npx oneio-relay resume --env ' +
        '<env>` ends it.',
    });
    return { breakerOpen, deliveriesPaused };
  }

  private alarm(
    id: string,
    options: {
      metric: Metric;
      description: string;
      threshold?: number;
      comparisonOperator?: ComparisonOperator;
    },
  ): Alarm {
    const alarm = new Alarm(this, id, {
      metric: options.metric,
      alarmDescription: options.description,
      threshold: options.threshold ?? 1,
      comparisonOperator: options.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // No data means no invocations / no messages, which is healthy.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    return alarm;
  }
}

import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SWEEP_HEARTBEAT_METRIC } from '../../functions/relay/events/sweep-handler';

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
  /** Threshold of the {@link RelayAlarms.breakerOpen} alarm, minutes. */
  readonly breakerOpenAlarmMinutes: number;
  /** Threshold of the {@link RelayAlarms.webhooksUnauthorized} alarm, refusals per 5 minutes. */
  readonly webhookUnauthorizedAlarmThreshold: number;
  /** @default - no subscription */
  readonly alarmEmail?: string;
  /** An existing topic every alarm notifies as well. @default - the stack's own topic only */
  readonly alarmTopicArn?: string;
}

const PERIOD = Duration.minutes(5);

interface AlarmOptions {
  readonly metric: IMetric;
  readonly description: string;
  readonly threshold?: number;
  readonly comparisonOperator?: ComparisonOperator;
  /** @default 1 */
  readonly evaluationPeriods?: number;
  /**
   * What no data means for this alarm.
   *
   * @default TreatMissingData.NOT_BREACHING - no invocations / no messages, which is healthy
   */
  readonly treatMissingData?: TreatMissingData;
}

/**
 * The conditions an operator must hear about, each alarming on the first occurrence (the outbox age, the heartbeat
 * and the unauthorized burst on their thresholds): the relay is built so that none of them happens in normal
 * operation. Every alarm notifies on ALARM and on OK, to the stack's topic and to `alarmTopicArn` when set.
 */
export class RelayAlarms extends Construct {
  /** The stack's own topic; its policy lets exactly these alarms publish. */
  readonly topic: Topic;
  /** Every topic each alarm notifies: {@link topic}, then the configured existing one. */
  readonly destinations: readonly ITopic[];
  readonly all: Alarm[] = [];
  readonly functionErrors: Alarm;
  readonly functionThrottles: Alarm;
  readonly apiServerErrors: Alarm;
  readonly deadLetters: Alarm;
  /** No outbox sweep has started for 10 minutes: nothing retries the outbox. */
  readonly outboxSweepStopped: Alarm;
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
  /** A burst of webhooks refused for their signature: usually a signing secret that differs on the two sides. */
  readonly webhooksUnauthorized: Alarm;
  /** ONEiO refuses every new token: an instance holds off and queues everything. */
  readonly tokensRefused: Alarm;
  /** Secrets Manager could not be read; last good values are in use. */
  readonly secretsStale: Alarm;

  private readonly props: RelayAlarmsProps;

  constructor(scope: Construct, id: string, props: RelayAlarmsProps) {
    super(scope, id);
    this.props = props;
    // Not encrypted: CloudWatch cannot publish to a topic under the AWS-managed aws/sns key, and alarm
    // notifications carry alarm names and metric values only, never message content.
    this.topic = new Topic(this, 'Topic', {
      displayName: `oneio-relay ${props.environmentName} alarms`,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) {
      const subscription = this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
      Validations.of(subscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An e-mail SNS could not deliver is an alarm notification, not data: a dead-letter queue for it would ' +
          'need its own alarm and reader. The alarm state stays in CloudWatch and on the dashboard, and ' +
          'alarmTopicArn can add a second path (on-call or chat topic).',
      });
    }
    this.destinations = [
      this.topic,
      ...(props.alarmTopicArn !== undefined
        ? [Topic.fromTopicArn(this, 'ExistingTopic', props.alarmTopicArn)]
        : []),
    ];

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

    // Every sweep publishes its heartbeat before it touches DynamoDB, so the only way to miss two periods of it
    // is that the sweep no longer runs: schedule disabled or deleted, its invoke permission gone, the function
    // unable to start. Nothing else would tell: the outbox alarms below have no data then.
    this.outboxSweepStopped = this.alarm('OutboxSweepStopped', {
      metric: this.relayMetric(SWEEP_HEARTBEAT_METRIC, 'Sum'),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 2,
      treatMissingData: TreatMissingData.BREACHING,
      description:
        'No outbox sweep has started for 10 minutes (it runs every minute), so nothing retries the messages in ' +
        'the outbox and the outbox alarms cannot see them. Check that the OutboxSweep rule is enabled and the ' +
        'function starts (its log group, FunctionErrors). Right after the first deploy this fires once until the ' +
        'first sweeps have reported.',
    });

    // Gauges written by every sweep (once a minute). Missing data means the sweep did not run, which
    // OutboxSweepStopped reports: it must neither clear these two nor raise them, so they keep their last state.
    this.outboxParked = this.alarm('OutboxParked', {
      metric: this.relayMetric('OutboxParkedItems', 'Maximum'),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.IGNORE,
      description:
        'Parked outbox items are waiting for an operator: ONEiO refused them (4xx) or they were not delivered ' +
        'within the maximum age. List them with `npx oneio-relay outbox list --env <env> --parked`, then ' +
        '`redrive` or `purge` them; the alarm clears once none is left.',
    });
    this.outboxOverdue = this.alarm('OutboxOverdue', {
      metric: this.relayMetric('OutboxOldestDueAge', 'Maximum'),
      threshold: props.outboxAgeAlarmMinutes * 60,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.IGNORE,
      description:
        `A message due for a retry was received more than ${props.outboxAgeAlarmMinutes} minutes ago: ONEiO ` +
        'has not taken it since. Check the function logs (token or receiver errors) and ONEiO; the outbox keeps ' +
        'retrying until the maximum age, then parks the message.',
    });
    // Cheap (two more alarms) and specific. ApiServerErrors mixes a 503 with function crashes and never sees the
    // EventBridge path; MessageFailed counts exactly the messages the relay could neither deliver nor write to
    // the outbox (webhook sender answered 503, EventBridge event handed back to Lambda's retries).
    this.messagesFailed = this.alarm('MessagesFailed', {
      metric: this.relayMetric('MessageFailed', 'Sum'),
      description:
        'Messages were neither delivered nor kept in the outbox (usually ONEiO and DynamoDB failing together): ' +
        'webhook senders got a 503 and must retry; EventBridge events are retried by Lambda, then dead-lettered.',
    });
    // The earliest sign of wrong ONEiO credentials or a token endpoint outage: a refresh is rare (one fleet-wide
    // per token lifetime, the secret already re-read once on invalid_client), so one failure is worth a look
    // before the outbox age alarm fires an hour later.
    this.tokenRefreshFailed = this.alarm('TokenRefreshFailed', {
      metric: this.relayMetric('TokenRefreshFailed', 'Sum'),
      description:
        'The ONEiO token endpoint refused or failed a token request. invalid_client in the function logs: put the ' +
        "right client_id/client_secret in the credentials secret. Otherwise check ONEiO's status; the relay keeps " +
        'its current token while it lasts and queues what it cannot deliver.',
    });
    // The most likely day-2 failure: a signing secret rotated on one side only. Every webhook of that sender is
    // then refused with 401, and a sender such as GitHub does not retry. The function also publishes the metric
    // by reason; an alarm needs the one series without the reason dimension.
    this.webhooksUnauthorized = this.alarm('WebhooksUnauthorized', {
      metric: this.relayMetric('WebhookUnauthorized', 'Sum'),
      threshold: props.webhookUnauthorizedAlarmThreshold,
      description:
        `At least ${props.webhookUnauthorizedAlarmThreshold} webhooks in 5 minutes were refused with 401 ` +
        '(signature, timestamp or source IP). bad_signature from one source in the logs: its signing secret ' +
        'differs between the sender and the signing-secrets secret; those webhooks were not relayed. Otherwise ' +
        'somebody is probing the URL.',
    });

    // Credentials that still get tokens while ONEiO answers 401 to each of them: the ONEiO endpoint is disabled or
    // its user lost its rights. Nothing reaches ONEiO until that is fixed there, and no other alarm says why.
    this.tokensRefused = this.alarm('TokensRefused', {
      metric: this.relayMetric('TokenRefusalHold', 'Sum'),
      description:
        'ONEiO answers 401 to every new access token (TokenRefusalHold): the ONEiO endpoint is disabled or its ' +
        'user lost its rights. Messages are queued in the outbox meanwhile. Fix the endpoint in ONEiO; deliveries ' +
        'resume within 5 minutes and the outbox sends what was queued.',
    });
    // The relay carries on with the values it read last, for up to an hour: worth knowing before that runs out, and
    // a rotated secret is not picked up meanwhile.
    this.secretsStale = this.alarm('SecretsStale', {
      metric: this.relayMetric('SecretStale', 'Sum'),
      description:
        'Secrets Manager could not be read (SecretStale); the relay uses the last values it read, for up to an ' +
        'hour. Check Secrets Manager in the region and the function role; a secret changed meanwhile is not ' +
        'picked up until reads work again.',
    });

    const destination = this.destinationAlarms(props);
    this.breakerOpen = destination.breakerOpen;
    this.deliveriesPaused = destination.deliveriesPaused;

    this.allowAlarmsToPublish();
  }

  /**
   * The destination's two gauges, written by every sweep (once a minute) like the outbox ones. The breaker opening
   * is normal during a short ONEiO blip (the outbox keeps the messages); staying open is an outage worth a person.
   * A pause is deliberate, and alarms anyway so that nobody forgets one. Missing data means no sweep ran, which
   * OutboxSweepStopped reports, so both keep their last state as the outbox gauges do.
   */
  private destinationAlarms(props: RelayAlarmsProps) {
    const minutes = props.breakerOpenAlarmMinutes;
    const breakerOpen = this.alarm('BreakerOpen', {
      metric: this.relayMetric('BreakerOpenAge', 'Maximum'),
      threshold: minutes * 60,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.IGNORE,
      description:
        `The circuit breaker in front of ONEiO has been open for more than ${minutes} minutes: ONEiO failed ` +
        'every probe since. Messages wait in the outbox and nothing is lost; check ONEiO and the function logs ' +
        '(the last receiver errors). The breaker closes by itself at the first probe ONEiO takes.',
    });
    const deliveriesPaused = this.alarm('DeliveriesPaused', {
      metric: this.relayMetric('DeliveriesPaused', 'Maximum'),
      treatMissingData: TreatMissingData.IGNORE,
      description:
        'Deliveries to ONEiO are paused by an operator: messages are accepted and queued, nothing is sent. ' +
        '`npx oneio-relay status --env <env>` says by whom, why and until when; `npx oneio-relay resume --env ' +
        '<env>` ends it.',
    });
    return { breakerOpen, deliveriesPaused };
  }

  /** One of the relay's own metrics, as the function publishes it: the `service` dimension alone. */
  private relayMetric(metricName: string, statistic: 'Sum' | 'Maximum'): Metric {
    return new Metric({
      namespace: this.props.metricsNamespace,
      metricName,
      dimensionsMap: { service: this.props.serviceName },
      period: PERIOD,
      statistic,
    });
  }

  private alarm(id: string, options: AlarmOptions): Alarm {
    const alarm = new Alarm(this, id, {
      metric: options.metric,
      alarmDescription: options.description,
      threshold: options.threshold ?? 1,
      comparisonOperator: options.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      treatMissingData: options.treatMissingData ?? TreatMissingData.NOT_BREACHING,
    });
    for (const topic of this.destinations) {
      alarm.addAlarmAction(new SnsAction(topic));
      // On-call learns that it is over without opening the console.
      alarm.addOkAction(new SnsAction(topic));
    }
    this.all.push(alarm);
    return alarm;
  }

  /**
   * A topic policy replaces SNS's default one, and `enforceSSL` attaches a policy holding only its TLS deny: without
   * this statement CloudWatch may not publish, and every alarm's history shows "not authorized to perform
   * SNS:Publish". Limited to this account's CloudWatch acting for exactly these alarms (no confused deputy).
   */
  private allowAlarmsToPublish(): void {
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowRelayAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
          ArnEquals: { 'aws:SourceArn': this.all.map((alarm) => alarm.alarmArn) },
        },
      }),
    );
  }
}

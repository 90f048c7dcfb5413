import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, type Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
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
  /** @default - no subscription */
  readonly alarmEmail?: string;
}

const PERIOD = Duration.minutes(5);

/**
 * The four conditions an operator must hear about, each alarming on the first occurrence: the relay is built so
 * that none of them happens in normal operation.
 */
export class RelayAlarms extends Construct {
  readonly topic: Topic;
  readonly functionErrors: Alarm;
  readonly functionThrottles: Alarm;
  readonly apiServerErrors: Alarm;
  readonly deadLetters: Alarm;

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

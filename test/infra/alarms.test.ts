import type { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { SWEEP_HEARTBEAT_METRIC } from '../../functions/relay/events/sweep-handler';
import { prod, qa } from '../../infra/config';
import { walkAlarmWiring } from './alarm-wiring';
import { onlyResource, type SynthesizedRelay, synthRelayApp } from './relay-app';

// Both stacks from the real config, built once for the whole file (loading aws-cdk-lib is the slow part).
const [qaStack, prodStack] = synthRelayApp() as [SynthesizedRelay, SynthesizedRelay];
const both = [
  { name: 'qa', config: qa, s: qaStack },
  { name: 'prod', config: prod, s: prodStack },
] as const;

type PolicyStatementJson = { Condition?: { ArnEquals?: Record<string, unknown> } };
type AlarmProperties = Record<string, unknown> & { Dimensions: { Name: string; Value: unknown }[] };
const alarmsOf = (s: SynthesizedRelay) =>
  Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).map(
    (a) => a.Properties as AlarmProperties,
  );
const byMetric = (s: SynthesizedRelay, metricName: string) => {
  const found = alarmsOf(s).filter((a) => a.MetricName === metricName);
  expect(found, metricName).toHaveLength(1);
  return found[0] as AlarmProperties;
};
function functionEnv(s: SynthesizedRelay): Record<string, unknown> {
  const fn = onlyResource(s.template, 'AWS::Lambda::Function');
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}
/** What every alarm shares: 5-minute periods, notifying the environment's topic on ALARM and on OK. */
const common = (s: SynthesizedRelay) => ({
  Period: 300,
  AlarmActions: [s.resolve(s.stack.relay.alarms.topic.topicArn)],
  OKActions: [s.resolve(s.stack.relay.alarms.topic.topicArn)],
  Tags: expect.any(Array),
});

describe('alarm notifications', () => {
  // A topic policy replaces SNS's default one: unless it lets CloudWatch publish, every alarm fails silently
  // ("not authorized to perform SNS:Publish" in its history) and nobody is told. Only a deploy would show it, so
  // the template is walked reference by reference, for every alarm.
  it.each(both)('$name: every alarm reaches a topic whose policy lets CloudWatch publish for it', ({ s }) => {
    const wiring = walkAlarmWiring(s.template, s.resolve(s.stack.account));
    expect(wiring).toHaveLength(alarmsOf(s).length);
    const topic = s.stack.getLogicalId(s.stack.relay.alarms.topic.node.defaultChild as CfnElement);
    for (const path of wiring) {
      expect(path).toEqual({ alarm: path.alarm, alarmTopics: [topic], okTopics: [topic], external: [] });
    }
  });

  it('binds the publish permission to the account the stack is in', () => {
    // PROD names its account; QA takes whatever account it is deployed to.
    expect([qaStack.resolve(qaStack.stack.account), prodStack.resolve(prodStack.stack.account)]).toEqual([
      { Ref: 'AWS::AccountId' },
      prod.account,
    ]);
  });

  // The walk itself must be able to fail: these are the two ways the topic policy went wrong before.
  it.each([
    [
      'an alarm the policy does not name',
      (statements: PolicyStatementJson[]) => {
        const arns = statements[1]?.Condition?.ArnEquals?.['aws:SourceArn'];
        if (!Array.isArray(arns)) throw new Error('no alarm ARNs in the second statement');
        arns.pop();
      },
    ],
    ['a policy with the TLS deny only', (statements: PolicyStatementJson[]) => statements.splice(1)],
  ])('fails the walk for %s', (_what, breakPolicy) => {
    // Prepare
    const copy = JSON.parse(JSON.stringify(prodStack.template.toJSON())) as {
      Resources: Record<
        string,
        { Type: string; Properties: { PolicyDocument: { Statement: PolicyStatementJson[] } } }
      >;
    };
    const policy = Object.values(copy.Resources).find((r) => r.Type === 'AWS::SNS::TopicPolicy');
    breakPolicy(policy?.Properties.PolicyDocument.Statement ?? []);

    // Act / Assess
    expect(() => walkAlarmWiring(Template.fromJSON(copy), prod.account)).toThrow(
      'does not let CloudWatch publish for this alarm',
    );
  });

  it.each(both)(
    '$name subscribes no e-mail unless configured, and keeps the topic TLS-only',
    ({ config, s }) => {
      const subscriptions = Object.values(s.template.findResources('AWS::SNS::Subscription'));
      expect(subscriptions.map((sub) => sub.Properties)).toEqual(
        config.alarmEmail === undefined
          ? []
          : [
              {
                Protocol: 'email',
                Endpoint: config.alarmEmail,
                TopicArn: s.resolve(s.stack.relay.alarms.topic.topicArn),
              },
            ],
      );
      const statements = (
        onlyResource(s.template, 'AWS::SNS::TopicPolicy').Properties.PolicyDocument as {
          Statement: unknown[];
        }
      ).Statement;
      expect(statements).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    },
  );

  it('sends PROD alarms to someone', () => {
    expect(prod.alarmEmail ?? prod.alarmTopicArn).toBeDefined();
  });
});

describe('alarms', () => {
  it.each(both)('$name has exactly these fourteen alarms', ({ s }) => {
    expect(alarmsOf(s).map((a) => `${a.Namespace} ${a.MetricName}`)).toEqual([
      'AWS/Lambda Errors',
      'AWS/Lambda Throttles',
      'AWS/ApiGateway 5xx',
      'AWS/SQS ApproximateNumberOfMessagesVisible',
      `OneioRelay ${SWEEP_HEARTBEAT_METRIC}`,
      'OneioRelay OutboxParkedItems',
      'OneioRelay OutboxOldestDueAge',
      'OneioRelay MessageFailed',
      'OneioRelay TokenRefreshFailed',
      'OneioRelay WebhookUnauthorized',
      'OneioRelay TokenRefusalHold',
      'OneioRelay SecretStale',
      'OneioRelay BreakerOpenAge',
      'OneioRelay DeliveriesPaused',
    ]);
    for (const alarm of alarmsOf(s)) expect(alarm).toMatchObject(common(s));
  });

  // No data means something different for each kind of metric; "healthy" for all of them let a stopped sweep turn
  // the outbox alarms green while messages sat in the outbox.
  it.each(both)('$name treats missing data as the metric means it', ({ s }) => {
    const missing = Object.fromEntries(alarmsOf(s).map((a) => [a.MetricName, a.TreatMissingData]));
    expect(missing).toEqual({
      Errors: 'notBreaching',
      Throttles: 'notBreaching',
      '5xx': 'notBreaching',
      ApproximateNumberOfMessagesVisible: 'notBreaching',
      // No heartbeat: the sweep did not run. That is the alarm.
      [SWEEP_HEARTBEAT_METRIC]: 'breaching',
      // Gauges only a sweep writes: without a sweep they keep their last state instead of turning green.
      OutboxParkedItems: 'ignore',
      OutboxOldestDueAge: 'ignore',
      MessageFailed: 'notBreaching',
      TokenRefreshFailed: 'notBreaching',
      WebhookUnauthorized: 'notBreaching',
      TokenRefusalHold: 'notBreaching',
      SecretStale: 'notBreaching',
      BreakerOpenAge: 'ignore',
      DeliveriesPaused: 'ignore',
    });
  });

  it.each(both)('$name alarms on the first function error, throttle and API 5xx', ({ s }) => {
    const relay = s.stack.relay;
    const at = {
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Statistic: 'Sum',
      Threshold: 1,
      EvaluationPeriods: 1,
    };
    expect(byMetric(s, 'Errors')).toMatchObject({
      ...at,
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: s.resolve(relay.handler.functionName) }],
    });
    expect(byMetric(s, 'Throttles')).toMatchObject({
      ...at,
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: s.resolve(relay.handler.functionName) }],
    });
    expect(byMetric(s, '5xx')).toMatchObject({
      ...at,
      Namespace: 'AWS/ApiGateway',
      Dimensions: [{ Name: 'ApiId', Value: s.resolve(relay.api.apiId) }],
    });
  });

  it.each(both)('$name alarms while the dead-letter queue holds anything', ({ s }) => {
    expect(byMetric(s, 'ApproximateNumberOfMessagesVisible')).toMatchObject({
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: s.resolve(s.stack.relay.deadLetterQueue.queueName) }],
    });
  });

  // The alarms on the relay's own metrics, exactly: the relay's metrics carry one dimension, Powertools' `service`,
  // and an alarm naming another set of dimensions (or the unsuffixed service) would watch a metric nobody
  // publishes and never fire.
  const relayAlarms = [
    {
      // No sweep started in two periods in a row: the schedule or the function is broken.
      metric: SWEEP_HEARTBEAT_METRIC,
      says: 'No outbox sweep has started for 10 minutes',
      expected: {
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 2,
      },
    },
    {
      // Any parked item waits for an operator.
      metric: 'OutboxParkedItems',
      says: 'outbox list --env <env> --parked',
      expected: { Statistic: 'Maximum', Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' },
    },
    {
      // The configured 60 minutes, in seconds as the gauge is published.
      metric: 'OutboxOldestDueAge',
      says: 'more than 60 minutes ago',
      expected: { Statistic: 'Maximum', Threshold: 3600, ComparisonOperator: 'GreaterThanThreshold' },
    },
    {
      metric: 'MessageFailed',
      says: '503',
      expected: { Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' },
    },
    {
      metric: 'TokenRefreshFailed',
      says: 'invalid_client',
      expected: { Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' },
    },
    {
      // The series without a reason, at the default threshold of 10 per 5 minutes.
      metric: 'WebhookUnauthorized',
      says: 'signing secret',
      expected: { Statistic: 'Sum', Threshold: 10, ComparisonOperator: 'GreaterThanOrEqualToThreshold' },
    },
    {
      metric: 'TokenRefusalHold',
      says: 'endpoint is disabled',
      expected: { Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' },
    },
    {
      metric: 'SecretStale',
      says: 'last values it read',
      expected: { Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' },
    },
    {
      // The default 15 minutes of oneio.breaker.openAlarmMinutes, in seconds as the gauge is published.
      metric: 'BreakerOpenAge',
      says: 'open for more than 15 minutes',
      expected: { Statistic: 'Maximum', Threshold: 900, ComparisonOperator: 'GreaterThanThreshold' },
    },
    {
      metric: 'DeliveriesPaused',
      says: 'npx oneio-relay resume --env <env>',
      expected: { Statistic: 'Maximum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' },
    },
  ] as const;

  it.each(both.flatMap((env) => relayAlarms.map((alarm) => ({ ...env, ...alarm }))))(
    '$name alarms on $metric exactly as intended',
    ({ name, s, metric, says, expected }) => {
      expect(byMetric(s, metric)).toEqual({
        ...common(s),
        AlarmDescription: expect.stringContaining(says),
        Namespace: 'OneioRelay',
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: `oneio-relay-${name}` }],
        EvaluationPeriods: 1,
        TreatMissingData: expect.any(String),
        ...expected,
      });
    },
  );

  it('watches the service name the function publishes under, in the namespace it publishes to', () => {
    for (const { s } of both) {
      const env = functionEnv(s);
      for (const metric of [
        SWEEP_HEARTBEAT_METRIC,
        'OutboxParkedItems',
        'OutboxOldestDueAge',
        'MessageFailed',
        'TokenRefreshFailed',
        'WebhookUnauthorized',
        'TokenRefusalHold',
        'SecretStale',
      ]) {
        expect(byMetric(s, metric)).toMatchObject({
          Namespace: env.POWERTOOLS_METRICS_NAMESPACE,
          Dimensions: [{ Name: 'service', Value: env.POWERTOOLS_SERVICE_NAME }],
        });
      }
    }
  });
});

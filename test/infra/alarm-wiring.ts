import type { Template } from 'aws-cdk-lib/assertions';

type Json = Record<string, unknown>;

interface PolicyStatement {
  Effect: string;
  Principal?: unknown;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** What one alarm's notification path looks like after following every reference in the template. */
export interface AlarmWiring {
  readonly alarm: string;
  /** In-template topics the alarm notifies on ALARM / on OK, by logical id. */
  readonly alarmTopics: string[];
  readonly okTopics: string[];
  /** Actions that are not topics of this template (an existing topic's ARN, as configured). */
  readonly external: unknown[];
}

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/**
 * Follows every alarm of `template` to the topics its AlarmActions and OKActions name and checks, for each
 * in-template topic, that the topic's policy lets CloudWatch publish for exactly that alarm of this account. Throws,
 * naming the alarm, on the first path that CloudWatch could not use. An action outside the template must be one of
 * `externalTopicArns`.
 *
 * `account` is what `aws:SourceAccount` must equal: the literal of an environment with a pinned account, or
 * `{ Ref: 'AWS::AccountId' }`.
 */
export function walkAlarmWiring(
  template: Template,
  account: unknown,
  externalTopicArns: readonly string[] = [],
): AlarmWiring[] {
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const alarms = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
  if (alarms.length === 0) throw new Error('the template has no alarm: nothing to walk');

  const topicOf = (alarm: string, action: unknown): string | undefined => {
    const ref = (action as { Ref?: string }).Ref;
    if (ref !== undefined) {
      if (resources[ref]?.Type !== 'AWS::SNS::Topic')
        throw new Error(`${alarm}: action ${ref} is not an SNS topic`);
      return ref;
    }
    if (typeof action === 'string' && externalTopicArns.includes(action)) return undefined;
    throw new Error(
      `${alarm}: action ${JSON.stringify(action)} is neither a topic of the stack nor a configured one`,
    );
  };

  const publishStatements = (topic: string): PolicyStatement[] =>
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::SNS::TopicPolicy')
      .filter((r) =>
        asList(r.Properties.Topics as unknown[]).some((t) => (t as { Ref?: string }).Ref === topic),
      )
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: PolicyStatement[] }).Statement);

  const checkPolicy = (alarm: string, topic: string): void => {
    const statements = publishStatements(topic);
    if (statements.length === 0) throw new Error(`${alarm}: topic ${topic} has no topic policy`);
    const allows = statements.some(
      (s) =>
        s.Effect === 'Allow' &&
        JSON.stringify(s.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }) &&
        asList(s.Action).some((a) => a.toLowerCase() === 'sns:publish') &&
        asList(s.Resource).some((r) => (r as { Ref?: string }).Ref === topic) &&
        JSON.stringify(s.Condition?.StringEquals?.['aws:SourceAccount']) === JSON.stringify(account) &&
        asList(s.Condition?.ArnEquals?.['aws:SourceArn'] ?? s.Condition?.ArnLike?.['aws:SourceArn']).some(
          (arn) => JSON.stringify(arn) === JSON.stringify({ 'Fn::GetAtt': [alarm, 'Arn'] }),
        ),
    );
    if (!allows) {
      throw new Error(`${alarm}: the policy of ${topic} does not let CloudWatch publish for this alarm`);
    }
    // A deny may only refuse requests without TLS; CloudWatch publishes over TLS.
    for (const deny of statements.filter((s) => s.Effect === 'Deny')) {
      if (JSON.stringify(deny.Condition) !== JSON.stringify({ Bool: { 'aws:SecureTransport': 'false' } })) {
        throw new Error(`${alarm}: the policy of ${topic} has a deny that may refuse CloudWatch`);
      }
    }
  };

  return alarms.map(([alarm, resource]) => {
    const external: unknown[] = [];
    const follow = (actions: unknown): string[] => {
      const list = asList(actions as unknown[]);
      if (list.length === 0) throw new Error(`${alarm}: no action`);
      return list.flatMap((action) => {
        const topic = topicOf(alarm, action);
        if (topic === undefined) {
          external.push(action);
          return [];
        }
        checkPolicy(alarm, topic);
        return [topic];
      });
    };
    return {
      alarm,
      alarmTopics: follow(resource.Properties.AlarmActions),
      okTopics: follow(resource.Properties.OKActions),
      external,
    };
  });
}

import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, ENV, type IndexLayout, SWEEP_EVENT, TABLE } from '../../functions/relay/contract';
import { parseSourceDeclarations } from '../../functions/relay/core/inbound/source-declaration';
import { WEBHOOK_BUDGET_MS } from '../../functions/relay/events/webhook-handler';
import { prod, qa } from '../../infra/config';
import { onlyResource, type SynthesizedRelay, synthRelayApp } from './relay-app';

// Both stacks from the real config, built once for the whole file (loading aws-cdk-lib is the slow part).
const [qaStack, prodStack] = synthRelayApp() as [SynthesizedRelay, SynthesizedRelay];
const both = [
  { name: 'qa', config: qa, s: qaStack },
  { name: 'prod', config: prod, s: prodStack },
] as const;

/** IAM policies write a single resource as a value, several as a list. */
function oneOrMany<T>(items: T[]): T | T[] {
  return items.length === 1 ? (items[0] as T) : items;
}

/** An index's projection as CloudFormation spells it, from the contract's layout. */
function projectionOf(index: IndexLayout): Record<string, unknown> {
  const projection = index.projection ?? 'ALL';
  return typeof projection === 'string'
    ? { ProjectionType: projection }
    : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projection.include] };
}

function functionEnv(s: SynthesizedRelay): Record<string, unknown> {
  const fn = onlyResource(s.template, 'AWS::Lambda::Function');
  return (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

describe('stacks', () => {
  it('are named OneioRelay-qa and OneioRelay-prod, the ids operators deploy', () => {
    expect([qaStack.stack.stackName, prodStack.stack.stackName]).toEqual([
      'OneioRelay-qa',
      'OneioRelay-prod',
    ]);
  });

  it.each(both)('$name hard-codes no physical name (both environments may share an account)', ({ s }) => {
    const nameProperty: Record<string, string> = {
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::SQS::Queue': 'QueueName',
      'AWS::SecretsManager::Secret': 'Name',
      'AWS::SNS::Topic': 'TopicName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::Events::Rule': 'Name',
    };
    for (const [type, property] of Object.entries(nameProperty)) {
      const resources = Object.values(s.template.findResources(type));
      expect(resources.length, type).toBeGreaterThan(0);
      for (const r of resources) expect(r.Properties[property], `${type}.${property}`).toBeUndefined();
    }
  });

  it.each(both)('$name tags resources with project and environment', ({ name, s }) => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Tags: Match.arrayWith([
        { Key: 'environment', Value: name },
        { Key: 'project', Value: 'oneio-relay' },
      ]),
    });
  });

  it.each(both)('$name outputs what an operator needs next', ({ s }) => {
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual([
      'AlarmTopicArn',
      'CredentialsSecretName',
      'DeadLetterQueueUrl',
      'FunctionName',
      'SigningSecretsSecretName',
      'TableName',
      'WebhookBaseUrl',
    ]);
    const relay = s.stack.relay;
    expect(outputs.FunctionName?.Value).toEqual(s.resolve(relay.handler.functionName));
    expect(outputs.TableName?.Value).toEqual(s.resolve(relay.table.tableName));
    expect(outputs.DeadLetterQueueUrl?.Value).toEqual(s.resolve(relay.deadLetterQueue.queueUrl));
    expect(outputs.CredentialsSecretName?.Value).toEqual(s.resolve(relay.credentialsSecret.secretName));
    expect(outputs.SigningSecretsSecretName?.Value).toEqual(s.resolve(relay.signingSecretsSecret.secretName));
    expect(outputs.WebhookBaseUrl?.Value).toEqual({
      'Fn::Join': [
        '',
        [
          'https://',
          s.resolve(relay.api.apiId),
          '.execute-api.',
          { Ref: 'AWS::Region' },
          '.',
          { Ref: 'AWS::URLSuffix' },
          '/webhooks/',
        ],
      ],
    });
  });
});

describe('function', () => {
  it('uses the ONEiO test endpoints in QA', () => {
    expect(functionEnv(qaStack)).toMatchObject({
      [ENV.tokenUrl]: 'https://receiver-authz-test.service-flow.com/oauth2/token',
      [ENV.receiverUrl]: 'https://rest-receiver-test.service-flow.com/api/v2',
    });
  });

  it('uses the ONEiO production endpoints in PROD', () => {
    expect(functionEnv(prodStack)).toMatchObject({
      [ENV.tokenUrl]: 'https://receiver-authz.service-flow.com/oauth2/token',
      [ENV.receiverUrl]: 'https://rest-receiver.service-flow.com/api/v2',
    });
  });

  it.each(both)('$name sets every variable of the contract', ({ s }) => {
    const env = functionEnv(s);
    for (const name of Object.values(ENV)) {
      expect(env[name], name).toBeDefined();
      expect(env[name], name).not.toBe('');
    }
  });

  it.each(both)('$name points the variables at its own table and secrets', ({ config, s }) => {
    const relay = s.stack.relay;
    expect(functionEnv(s)).toEqual({
      [ENV.tokenUrl]: config.oneio.tokenUrl,
      [ENV.receiverUrl]: config.oneio.receiverUrl,
      // Created secrets are passed by ARN: exact, and valid as GetSecretValue's SecretId.
      [ENV.credentialsSecretId]: s.resolve(relay.credentialsSecret.secretArn),
      [ENV.signingSecretsSecretId]: s.resolve(relay.signingSecretsSecret.secretArn),
      [ENV.tableName]: s.resolve(relay.table.tableName),
      [ENV.sources]: JSON.stringify(config.sources),
      [ENV.maxBodyBytes]: String(DEFAULTS.maxBodyBytes),
      [ENV.dedupTtlSeconds]: String(DEFAULTS.dedupTtlSeconds),
      [ENV.outboxMaxAgeSeconds]: String(DEFAULTS.outboxMaxAgeSeconds),
      [ENV.drainRatePerSecond]: String(DEFAULTS.drainRatePerSecond),
      [ENV.breakerThreshold]: String(DEFAULTS.breakerThreshold),
      [ENV.breakerCoolDownSeconds]: String(DEFAULTS.breakerCoolDownSeconds),
      POWERTOOLS_SERVICE_NAME: `oneio-relay-${config.environmentName}`,
      POWERTOOLS_METRICS_NAMESPACE: 'OneioRelay',
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('names the telemetry service per environment, in one shared namespace', () => {
    // Logger and Metrics read nothing else: these two variables are what keeps QA and PROD metrics apart.
    expect([functionEnv(qaStack), functionEnv(prodStack)]).toEqual([
      expect.objectContaining({
        POWERTOOLS_SERVICE_NAME: 'oneio-relay-qa',
        POWERTOOLS_METRICS_NAMESPACE: 'OneioRelay',
      }),
      expect.objectContaining({
        POWERTOOLS_SERVICE_NAME: 'oneio-relay-prod',
        POWERTOOLS_METRICS_NAMESPACE: 'OneioRelay',
      }),
    ]);
  });

  it.each(both)('$name passes sources the function can parse back', ({ config, s }) => {
    const sources = JSON.parse(functionEnv(s)[ENV.sources] as string) as unknown;
    expect(parseSourceDeclarations(sources)).toEqual(config.sources);
  });

  it.each(both)(
    '$name runs Node.js 24 on arm64 with JSON logs and a timeout under API Gateway 30 s',
    ({ s }) => {
      const fn = onlyResource(s.template, 'AWS::Lambda::Function').Properties;
      expect(fn).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        Timeout: 25,
        LoggingConfig: {
          LogFormat: 'JSON',
          LogGroup: s.resolve(s.stack.relay.functionLogGroup.logGroupName),
        },
      });
    },
  );

  it.each(both)('$name gives the webhook path its whole budget within the timeout', ({ s }) => {
    const timeoutMs = (onlyResource(s.template, 'AWS::Lambda::Function').Properties.Timeout as number) * 1000;
    // The handler answers within min(budget, remaining - 1 s); API Gateway gives up at 30 s.
    expect(timeoutMs - 1_000).toBeGreaterThanOrEqual(WEBHOOK_BUDGET_MS);
    expect(timeoutMs).toBeLessThan(30_000);
  });

  it('reserves concurrency only where the config says so', () => {
    expect(
      onlyResource(qaStack.template, 'AWS::Lambda::Function').Properties.ReservedConcurrentExecutions,
    ).toBeUndefined();
    expect(
      onlyResource(prodStack.template, 'AWS::Lambda::Function').Properties.ReservedConcurrentExecutions,
    ).toBe(prod.reservedConcurrency);
  });

  it.each(both)('$name keeps function and access logs as long as the config says', ({ config, s }) => {
    const groups = Object.values(s.template.findResources('AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(2);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(config.logRetention);
  });

  it.each(both)('$name sends failed asynchronous invocations to the dead-letter queue', ({ s }) => {
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: s.resolve(s.stack.relay.handler.functionName),
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: s.resolve(s.stack.relay.deadLetterQueue.queueArn) } },
    });
  });
});

describe('least privilege', () => {
  it.each(both)('$name gives the function role exactly these statements', ({ s }) => {
    const relay = s.stack.relay;
    s.template.resourceCountIs('AWS::IAM::Role', 1);
    s.template.resourceCountIs('AWS::IAM::Policy', 1);
    const role = onlyResource(s.template, 'AWS::IAM::Role').Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
    const policy = onlyResource(s.template, 'AWS::IAM::Policy').Properties;
    expect(policy.Roles).toEqual([s.resolve(relay.role.roleName)]);
    expect(policy.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: s.resolve(relay.functionLogGroup.logGroupArn),
        },
        {
          Effect: 'Allow',
          Action: [
            'dynamodb:DeleteItem',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:Query',
            'dynamodb:UpdateItem',
          ],
          Resource: s.resolve(relay.table.tableArn),
        },
        // Query on each index of the contract's layout, by exact ARN.
        ...(TABLE.globalIndexes.length === 0
          ? []
          : [
              {
                Effect: 'Allow',
                Action: 'dynamodb:Query',
                Resource: oneOrMany(
                  TABLE.globalIndexes.map((index) => ({
                    'Fn::Join': ['', [s.resolve(relay.table.tableArn), `/index/${index.name}`]],
                  })),
                ),
              },
            ]),
        {
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: [
            s.resolve(relay.credentialsSecret.secretArn),
            s.resolve(relay.signingSecretsSecret.secretArn),
          ],
        },
        {
          // Granted by the SqsDestination of the asynchronous on-failure configuration.
          Effect: 'Allow',
          Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
          Resource: s.resolve(relay.deadLetterQueue.queueArn),
        },
      ],
    });
  });

  it.each(both)(
    '$name lets only its API route, its rules and its sweep schedule invoke the function',
    ({ s }) => {
      const relay = s.stack.relay;
      const permissions = Object.values(s.template.findResources('AWS::Lambda::Permission')).map(
        (p) => p.Properties as { Principal: string; SourceArn: unknown },
      );
      const api = permissions.filter((p) => p.Principal === 'apigateway.amazonaws.com');
      expect(api).toHaveLength(1);
      expect(JSON.stringify(api[0]?.SourceArn)).toContain('/*/*/webhooks/{source}');
      const events = permissions.filter((p) => p.Principal === 'events.amazonaws.com');
      expect(events.map((p) => p.SourceArn)).toEqual(
        [...relay.eventRules, relay.outboxSweep].map((rule) => s.resolve(rule.ruleArn)),
      );
      expect(permissions).toHaveLength(api.length + events.length);
    },
  );
});

describe('table', () => {
  it.each(both)('$name is on demand, keyed and expiring as the contract says, AWS-managed SSE', ({ s }) => {
    const table = onlyResource(s.template, 'AWS::DynamoDB::Table').Properties;
    expect(table).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: TABLE.partitionKey, KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(table.AttributeDefinitions).toContainEqual({
      AttributeName: TABLE.partitionKey,
      AttributeType: 'S',
    });
  });

  it.each(both)('$name has exactly the global indexes of the contract', ({ s }) => {
    const table = onlyResource(s.template, 'AWS::DynamoDB::Table').Properties;
    const expected = TABLE.globalIndexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : []),
      ],
      Projection: projectionOf(index),
    }));
    expect(table.GlobalSecondaryIndexes ?? []).toEqual(expected);
    for (const index of TABLE.globalIndexes) {
      for (const key of [index.partitionKey, index.sortKey]) {
        if (key)
          expect(table.AttributeDefinitions).toContainEqual({
            AttributeName: key.name,
            AttributeType: key.type,
          });
      }
    }
  });

  it('has point-in-time recovery and deletion protection in PROD only', () => {
    expect(onlyResource(prodStack.template, 'AWS::DynamoDB::Table').Properties).toMatchObject({
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(onlyResource(qaStack.template, 'AWS::DynamoDB::Table').Properties).toMatchObject({
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
      DeletionProtectionEnabled: false,
    });
  });
});

describe('removal policy', () => {
  const stateful = [
    'AWS::DynamoDB::Table',
    'AWS::SecretsManager::Secret',
    'AWS::SQS::Queue',
    'AWS::Logs::LogGroup',
  ];

  it.each(stateful)('QA deletes its %s with the stack', (type) => {
    const resources = Object.values(qaStack.template.findResources(type));
    expect(resources.length).toBeGreaterThan(0);
    for (const r of resources)
      expect([r.DeletionPolicy, r.UpdateReplacePolicy]).toEqual(['Delete', 'Delete']);
  });

  it.each(stateful)('PROD retains its %s', (type) => {
    const resources = Object.values(prodStack.template.findResources(type));
    expect(resources.length).toBeGreaterThan(0);
    for (const r of resources)
      expect([r.DeletionPolicy, r.UpdateReplacePolicy]).toEqual(['Retain', 'Retain']);
  });
});

describe('secrets', () => {
  it.each(both)('$name creates both with a generated placeholder, never a value in the template', ({ s }) => {
    const secrets = Object.values(s.template.findResources('AWS::SecretsManager::Secret')).map(
      (r) => r.Properties as Record<string, unknown>,
    );
    expect(secrets.map((p) => p.GenerateSecretString)).toEqual([
      { SecretStringTemplate: '{"client_id":"REPLACE_ME"}', GenerateStringKey: 'client_secret' },
      { SecretStringTemplate: '{}', GenerateStringKey: '_placeholder' },
    ]);
    for (const p of secrets) expect(p.SecretString).toBeUndefined();
  });
});

describe('webhook API', () => {
  it.each(both)('$name routes POST /webhooks/{source} to the function with payload 2.0', ({ s }) => {
    s.template.resourceCountIs('AWS::ApiGatewayV2::Route', 1);
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /webhooks/{source}' });
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: s.resolve(s.stack.relay.handler.functionArn),
    });
  });

  it.each(both)('$name throttles the default stage as configured', ({ config, s }) => {
    expect(onlyResource(s.template, 'AWS::ApiGatewayV2::Stage').Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: {
        ThrottlingRateLimit: config.throttling.rateLimit,
        ThrottlingBurstLimit: config.throttling.burstLimit,
      },
    });
  });

  it('throttles PROD and QA differently (the values come from the config)', () => {
    expect([qa.throttling, prod.throttling]).toEqual([
      { rateLimit: 10, burstLimit: 20 },
      { rateLimit: 100, burstLimit: 200 },
    ]);
  });

  it.each(both)('$name writes JSON access logs without headers', ({ s }) => {
    const settings = onlyResource(s.template, 'AWS::ApiGatewayV2::Stage').Properties.AccessLogSettings as {
      DestinationArn: unknown;
      Format: string;
    };
    const logGroups = s.template.findResources('AWS::Logs::LogGroup');
    const accessLogGroupId = Object.keys(logGroups).find((id) => id.includes('AccessLogs'));
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [accessLogGroupId, 'Arn'] });
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      routeKey: '$context.routeKey',
      status: '$context.status',
      latency: '$context.responseLatency',
      integrationError: '$context.integrationErrorMessage',
    });
    expect(settings.Format).not.toContain('$context.header');
  });
});

describe('EventBridge', () => {
  it.each(both)(
    '$name has one rule per configured pattern, targeting the function with a DLQ',
    ({ config, s }) => {
      const relay = s.stack.relay;
      const rules = Object.values(s.template.findResources('AWS::Events::Rule'))
        .map((r) => r.Properties)
        .filter((r) => r.ScheduleExpression === undefined);
      expect(rules).toHaveLength(config.eventRules?.length ?? 0);
      expect(rules.map((r) => r.EventPattern)).toEqual(config.eventRules?.map((r) => r.eventPattern));
      for (const rule of rules) {
        expect(rule.EventBusName).toBeUndefined(); // the default bus
        expect(rule.Targets).toEqual([
          {
            Id: 'Target0',
            Arn: s.resolve(relay.handler.functionArn),
            DeadLetterConfig: { Arn: s.resolve(relay.deadLetterQueue.queueArn) },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 7200 },
          },
        ]);
      }
    },
  );

  it.each(both)("$name sweeps the outbox every minute with the contract's sweep event", ({ s }) => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        {
          Id: 'Target0',
          Arn: s.resolve(s.stack.relay.handler.functionArn),
          Input: JSON.stringify(SWEEP_EVENT),
          // The next sweep replaces a missed one: no retries, no dead letter.
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        },
      ],
    });
  });

  it.each(both)('$name lets only its rules write to the dead-letter queue, over TLS only', ({ s }) => {
    const policy = onlyResource(s.template, 'AWS::SQS::QueuePolicy').Properties.PolicyDocument as {
      Statement: Record<string, unknown>[];
    };
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Action: 'sqs:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
      ...s.stack.relay.eventRules.map((rule) =>
        expect.objectContaining({
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { ArnEquals: { 'aws:SourceArn': s.resolve(rule.ruleArn) } },
        }),
      ),
    ]);
  });

  it.each(both)('$name keeps dead letters 14 days, encrypted', ({ s }) => {
    expect(onlyResource(s.template, 'AWS::SQS::Queue').Properties).toEqual(
      expect.objectContaining({ MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true }),
    );
  });
});

describe('alarms', () => {
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
  /** What every alarm shares: one 5-minute period, quiet without data, to the environment's topic. */
  const common = (s: SynthesizedRelay) => ({
    Period: 300,
    EvaluationPeriods: 1,
    TreatMissingData: 'notBreaching',
    AlarmActions: [s.resolve(s.stack.relay.alarms.topic.topicArn)],
    Tags: expect.any(Array),
  });

  it.each(both)('$name has exactly these ten alarms', ({ s }) => {
    expect(alarmsOf(s).map((a) => `${a.Namespace} ${a.MetricName}`)).toEqual([
      'AWS/Lambda Errors',
      'AWS/Lambda Throttles',
      'AWS/ApiGateway 5xx',
      'AWS/SQS ApproximateNumberOfMessagesVisible',
      'OneioRelay OutboxParkedItems',
      'OneioRelay OutboxOldestDueAge',
      'OneioRelay MessageFailed',
      'OneioRelay TokenRefreshFailed',
      'OneioRelay BreakerOpenAge',
      'OneioRelay DeliveriesPaused',
    ]);
    for (const alarm of alarmsOf(s)) expect(alarm).toMatchObject(common(s));
  });

  it.each(both)('$name alarms on the first function error, throttle and API 5xx', ({ s }) => {
    const relay = s.stack.relay;
    const at = { ComparisonOperator: 'GreaterThanOrEqualToThreshold', Statistic: 'Sum', Threshold: 1 };
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

  // The relay's own metrics carry exactly one dimension, Powertools' `service`; an alarm naming another set of
  // dimensions (or the unsuffixed service) would watch a metric nobody publishes and never fire.
  it.each(both)('$name alarms while any parked outbox item waits for an operator', ({ name, s }) => {
    expect(byMetric(s, 'OutboxParkedItems')).toEqual({
      ...common(s),
      AlarmDescription: expect.stringContaining('outbox list --env <env> --parked'),
      Namespace: 'OneioRelay',
      MetricName: 'OutboxParkedItems',
      Dimensions: [{ Name: 'service', Value: `oneio-relay-${name}` }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it.each(both)(
    '$name alarms when the oldest due outbox item is older than the configured minutes',
    ({ name, config, s }) => {
      expect(config.outboxAgeAlarmMinutes).toBe(60);
      expect(byMetric(s, 'OutboxOldestDueAge')).toEqual({
        ...common(s),
        AlarmDescription: expect.stringContaining('more than 60 minutes ago'),
        Namespace: 'OneioRelay',
        MetricName: 'OutboxOldestDueAge',
        Dimensions: [{ Name: 'service', Value: `oneio-relay-${name}` }],
        Statistic: 'Maximum',
        // The gauge is published in seconds.
        Threshold: 3600,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    },
  );

  it.each(both)('$name alarms on the first message neither delivered nor kept', ({ name, s }) => {
    expect(byMetric(s, 'MessageFailed')).toEqual({
      ...common(s),
      AlarmDescription: expect.stringContaining('503'),
      Namespace: 'OneioRelay',
      MetricName: 'MessageFailed',
      Dimensions: [{ Name: 'service', Value: `oneio-relay-${name}` }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it.each(both)('$name alarms on the first failed token refresh', ({ name, s }) => {
    expect(byMetric(s, 'TokenRefreshFailed')).toEqual({
      ...common(s),
      AlarmDescription: expect.stringContaining('invalid_client'),
      Namespace: 'OneioRelay',
      MetricName: 'TokenRefreshFailed',
      Dimensions: [{ Name: 'service', Value: `oneio-relay-${name}` }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it.each(both)(
    '$name alarms when the breaker stays open longer than the configured minutes',
    ({ name, s }) => {
      expect(byMetric(s, 'BreakerOpenAge')).toEqual({
        ...common(s),
        AlarmDescription: expect.stringContaining('open for more than 15 minutes'),
        Namespace: 'OneioRelay',
        MetricName: 'BreakerOpenAge',
        Dimensions: [{ Name: 'service', Value: `oneio-relay-${name}` }],
        Statistic: 'Maximum',
        // The gauge is published in seconds; 15 minutes is the default of oneio.breaker.openAlarmMinutes.
        Threshold: 900,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    },
  );

  it.each(both)('$name alarms while deliveries are paused, saying how to resume', ({ name, s }) => {
    expect(byMetric(s, 'DeliveriesPaused')).toEqual({
      ...common(s),
      AlarmDescription: expect.stringContaining('npx oneio-relay resume --env <env>'),
      Namespace: 'OneioRelay',
      MetricName: 'DeliveriesPaused',
      Dimensions: [{ Name: 'service', Value: `oneio-relay-${name}` }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('watches the service name the function publishes under, in the namespace it publishes to', () => {
    for (const { s } of both) {
      const env = functionEnv(s);
      for (const metric of [
        'OutboxParkedItems',
        'OutboxOldestDueAge',
        'MessageFailed',
        'TokenRefreshFailed',
        'BreakerOpenAge',
        'DeliveriesPaused',
      ]) {
        expect(byMetric(s, metric)).toMatchObject({
          Namespace: env.POWERTOOLS_METRICS_NAMESPACE,
          Dimensions: [{ Name: 'service', Value: env.POWERTOOLS_SERVICE_NAME }],
        });
      }
    }
  });

  it.each(both)('$name has an SSL-only topic and no e-mail subscription unless configured', ({ s }) => {
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ],
      },
    });
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in either stack', () => {
    const report = new AwsSolutionsChecks(qaStack.app).validateScope(qaStack.app);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  // cdk-nag matches acknowledgements by rule id; aws-cdk-lib stores them under the `Annotation::` namespace.
  it('acknowledges only these rules, each with a reason', () => {
    const acknowledged: string[] = [];
    const walk = (node: IConstruct) => {
      for (const entry of node.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        const data = entry.data as Record<string, string>;
        for (const [id, reason] of Object.entries(data)) {
          expect(reason.length, id).toBeGreaterThan(60);
          acknowledged.push(`${node.node.path} ${id}`);
        }
      }
      node.node.children.forEach(walk);
    };
    walk(qaStack.app);
    expect(acknowledged.sort()).toEqual(
      [
        'OneioRelay-qa/Relay/Store/Table Annotation::AwsSolutions-DDB3',
        'OneioRelay-qa/Relay/Credentials/Secret Annotation::AwsSolutions-SMG4',
        'OneioRelay-qa/Relay/SigningSecrets/Secret Annotation::AwsSolutions-SMG4',
        'OneioRelay-qa/Relay/DeadLetterQueue Annotation::AwsSolutions-SQS3',
        'OneioRelay-qa/Relay/Webhooks/Api/POST--webhooks--{source} Annotation::AwsSolutions-APIG4',
        'OneioRelay-prod/Relay/Credentials/Secret Annotation::AwsSolutions-SMG4',
        'OneioRelay-prod/Relay/SigningSecrets/Secret Annotation::AwsSolutions-SMG4',
        'OneioRelay-prod/Relay/DeadLetterQueue Annotation::AwsSolutions-SQS3',
        'OneioRelay-prod/Relay/Webhooks/Api/POST--webhooks--{source} Annotation::AwsSolutions-APIG4',
      ].sort(),
    );
  });
});

import { readFileSync } from 'node:fs';
import { App, type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { CfnEventInvokeConfig } from 'aws-cdk-lib/aws-lambda';
import { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, ENV, type IndexLayout, SWEEP_EVENT, TABLE } from '../../functions/relay/contract';
import { parseSourceDeclarations } from '../../functions/relay/core/inbound/source-declaration';
import { WEBHOOK_BUDGET_MS } from '../../functions/relay/events/webhook-handler';
import { prod, qa } from '../../infra/config';
import { addRelayStacks } from '../../infra/relay-app';
import { CDK_JSON_CONTEXT, onlyResource, type SynthesizedRelay, synthRelayApp } from './relay-app';

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
    // The one exception: the access log group's name has to start with /aws/vendedlogs/ (see 'webhook API').
    const accessLogGroup = s.stack.getLogicalId(s.stack.relay.accessLogGroup.node.defaultChild as CfnElement);
    for (const [type, property] of Object.entries(nameProperty)) {
      const resources = Object.entries(s.template.findResources(type));
      expect(resources.length, type).toBeGreaterThan(0);
      for (const [id, r] of resources) {
        if (id !== accessLogGroup) expect(r.Properties[property], `${type}.${property}`).toBeUndefined();
      }
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
      'DashboardUrl',
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
    expect(outputs.AlarmTopicArn?.Value).toEqual(s.resolve(relay.alarms.topic.topicArn));
    // PROD's region is written in its config; QA's is whatever region it is deployed to.
    const region = s.resolve(s.stack.region);
    const inRegion =
      typeof region === 'string' ? [`.execute-api.${region}.`] : ['.execute-api.', region, '.'];
    expect(outputs.WebhookBaseUrl?.Value).toEqual({
      'Fn::Join': [
        '',
        ['https://', s.resolve(relay.api.apiId), ...inRegion, { Ref: 'AWS::URLSuffix' }, '/webhooks/'],
      ],
    });
    const atRegion =
      typeof region === 'string'
        ? [`https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/`]
        : [
            'https://',
            region,
            '.console.aws.amazon.com/cloudwatch/home?region=',
            region,
            '#dashboards/dashboard/',
          ];
    expect(outputs.DashboardUrl?.Value).toEqual({
      'Fn::Join': ['', [...atRegion, s.resolve(relay.dashboard.dashboard.dashboardName)]],
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
      // As long as EventBridge keeps handing an event over, then the dead-letter queue (and its alarm).
      MaximumEventAgeInSeconds: 2 * 3600,
      DestinationConfig: { OnFailure: { Destination: s.resolve(s.stack.relay.deadLetterQueue.queueArn) } },
    });
  });

  // A sweep that failed once (say DynamoDB blipped) must not be retried nor reach the dead-letter queue: the next
  // sweep a minute later does its work, and a dead letter would page an operator about nothing.
  it.each(both)('$name gives sweep invocations their own settings: no retry, no dead letter', ({ s }) => {
    const relay = s.stack.relay;
    const configs = Object.values(s.template.findResources('AWS::Lambda::EventInvokeConfig')).map(
      (r) => r.Properties as Record<string, unknown>,
    );
    // Every qualifier that can be invoked asynchronously says how long an event may wait.
    expect(configs.map((c) => c.MaximumEventAgeInSeconds)).toEqual([7200, 60]);
    const aliasId = s.stack.getLogicalId(relay.sweepAlias.node.defaultChild as CfnElement);
    expect(configs[1]).toEqual({
      FunctionName: s.resolve(relay.handler.functionName),
      Qualifier: { 'Fn::Select': [7, { 'Fn::Split': [':', { Ref: aliasId }] }] },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
    // The alias follows the code: it points at the version published from the current function.
    expect(onlyResource(s.template, 'AWS::Lambda::Alias').Properties).toEqual({
      Name: 'outbox-sweep',
      Description: expect.any(String),
      FunctionName: s.resolve(relay.handler.functionName),
      FunctionVersion: s.resolve(relay.handler.currentVersion.version),
    });
    expect(onlyResource(s.template, 'AWS::Lambda::Version').Properties.FunctionName).toEqual(
      s.resolve(relay.handler.functionName),
    );
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
          // No Query on the table itself: the outbox only queries its index.
          Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
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
        (p) => p.Properties as { Principal: string; SourceArn: unknown; FunctionName: unknown },
      );
      const api = permissions.filter((p) => p.Principal === 'apigateway.amazonaws.com');
      expect(api).toHaveLength(1);
      expect(JSON.stringify(api[0]?.SourceArn)).toContain('/*/*/webhooks/{source}');
      const events = permissions.filter((p) => p.Principal === 'events.amazonaws.com');
      // The API and the rules invoke the function itself; the sweep schedule only the sweep alias.
      expect(events.map((p) => [p.SourceArn, p.FunctionName])).toEqual([
        ...relay.eventRules.map((rule) => [s.resolve(rule.ruleArn), s.resolve(relay.handler.functionArn)]),
        [s.resolve(relay.outboxSweep.ruleArn), s.resolve(relay.sweepAlias.functionArn)],
      ]);
      expect(api[0]?.FunctionName).toEqual(s.resolve(relay.handler.functionArn));
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
      { rateLimit: 20, burstLimit: 40 },
    ]);
  });

  // Above what the reserved instances can hold while ONEiO is slow, Lambda refuses admitted webhooks (a 5xx that
  // GitHub does not retry); the stage must throttle first.
  it.each(both)('$name admits no more webhooks than its reserved concurrency can hold', ({ config, s }) => {
    const stage = onlyResource(s.template, 'AWS::ApiGatewayV2::Stage').Properties as {
      DefaultRouteSettings: { ThrottlingRateLimit: number };
    };
    const reserved = onlyResource(s.template, 'AWS::Lambda::Function').Properties
      .ReservedConcurrentExecutions as number | undefined;
    expect(reserved).toBe(config.reservedConcurrency);
    if (reserved !== undefined) {
      expect(stage.DefaultRouteSettings.ThrottlingRateLimit * (WEBHOOK_BUDGET_MS / 1000)).toBeLessThanOrEqual(
        reserved,
      );
    }
  });

  it('reserves concurrency for PROD, which holds its throttle rate for the whole webhook budget', () => {
    expect(prod.reservedConcurrency).toBe(160);
  });

  it.each(both)('$name writes JSON access logs without headers, to a vended-logs group', ({ s }) => {
    const settings = onlyResource(s.template, 'AWS::ApiGatewayV2::Stage').Properties.AccessLogSettings as {
      DestinationArn: unknown;
      Format: string;
    };
    const accessLogGroupId = s.stack.getLogicalId(
      s.stack.relay.accessLogGroup.node.defaultChild as CfnElement,
    );
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [accessLogGroupId, 'Arn'] });
    // Under /aws/vendedlogs/ the delivery needs no entry in the account's CloudWatch Logs resource policy, which is
    // size-capped; the random part of the stack id keeps the name free when a retained group of a deleted stack
    // is still there.
    expect(s.template.toJSON().Resources[accessLogGroupId].Properties.LogGroupName).toEqual({
      'Fn::Join': [
        '',
        [
          `/aws/vendedlogs/apigateway/${s.stack.stackName}/Webhooks-access-`,
          { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] },
        ],
      ],
    });
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
          // The sweep alias: its own asynchronous settings, not $LATEST's (see 'function').
          Arn: s.resolve(s.stack.relay.sweepAlias.functionArn),
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

describe('cdk-nag', () => {
  it.each([
    ['AwsSolutions', AwsSolutionsChecks],
    ['Serverless', ServerlessChecks],
  ] as const)('%s finds nothing unacknowledged in either stack', (_pack, Pack) => {
    const report = new Pack(qaStack.app).validateScope(qaStack.app);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('runs both packs on every synth of the app, and a finding fails it', () => {
    // Prepare: the app's checks without its stacks (they are checked above), and a stack with one finding of each
    // pack.
    const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    addRelayStacks(app, []);
    const probe = new Stack(app, 'Probe');
    new CfnQueue(probe, 'Queue'); // AwsSolutions: no TLS-only policy, no dead-letter queue
    new CfnEventInvokeConfig(probe, 'InvokeConfig', { functionName: 'probe', qualifier: '$LATEST' }); // Serverless

    // Act
    const failure = (() => {
      try {
        app.synth();
        return undefined;
      } catch (error) {
        return error as Error;
      }
    })();

    // Assess
    const reportPath = /found in: (\S+)/.exec(String(failure?.message))?.[1];
    expect(reportPath, String(failure)).toBeDefined();
    const report = JSON.parse(readFileSync(reportPath as string, 'utf8')) as {
      pluginReports: { pluginName: string; violations: { ruleName: string }[] }[];
    };
    const findings = report.pluginReports.flatMap((plugin) =>
      plugin.violations.map((v) => `${plugin.pluginName} ${v.ruleName}`),
    );
    expect(findings).toEqual(
      expect.arrayContaining([
        'AwsSolutions AwsSolutions-SQS3',
        'Serverless Serverless-LambdaAsyncFailureDestination',
      ]),
    );
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
    const inEvery = (stack: string) => [
      `${stack}/Relay/Credentials/Secret Annotation::AwsSolutions-SMG4`,
      `${stack}/Relay/SigningSecrets/Secret Annotation::AwsSolutions-SMG4`,
      `${stack}/Relay/DeadLetterQueue Annotation::AwsSolutions-SQS3`,
      `${stack}/Relay/DeadLetterQueue Annotation::Serverless-SQSRedrivePolicy`,
      `${stack}/Relay/Function Annotation::Serverless-LambdaDLQ`,
      `${stack}/Relay/Function Annotation::Serverless-LambdaTracing`,
      `${stack}/Relay/Function Annotation::@aws-cdk/aws-lambda:addPermissionsToVersionOrAlias`,
      `${stack}/Relay/SweepAlias Annotation::Serverless-LambdaAsyncFailureDestination`,
      `${stack}/Relay/OutboxSweep Annotation::Serverless-EventBusDLQ`,
      `${stack}/Relay/Webhooks/Api/POST--webhooks--{source} Annotation::AwsSolutions-APIG4`,
    ];
    expect(acknowledged.sort()).toEqual(
      [
        ...inEvery('OneioRelay-qa'),
        // QA runs without point-in-time recovery by its config.
        'OneioRelay-qa/Relay/Store/Table Annotation::AwsSolutions-DDB3',
        ...inEvery('OneioRelay-prod'),
        // Only PROD subscribes an e-mail address.
        'OneioRelay-prod/Relay/Alarms/Topic/oncall@example.com Annotation::Serverless-SNSRedrivePolicy',
      ].sort(),
    );
  });

  // The acknowledgement is what a reviewer reads; it must not claim that every request is authenticated once an
  // environment declares an unauthenticated source (config-variants covers that case).
  it.each(both)(
    '$name explains the missing API authorizer with its own sources and schemes',
    ({ config, s }) => {
      const route = s.stack.relay.api.node.findChild('POST--webhooks--{source}');
      const reasons = route.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .map((entry) => (entry.data as Record<string, string>)['Annotation::AwsSolutions-APIG4']);
      const schemes = Object.entries(config.sources).map(([name, source]) => `${name} (${source.scheme})`);
      expect(reasons).toEqual([
        expect.stringContaining(`Authenticated by their scheme: ${schemes.join(', ')}.`),
      ]);
      expect(reasons[0]).not.toContain('NOT authenticated');
    },
  );
});

describe('deployment safety', () => {
  it('pins PROD to its account and region, and leaves QA to the credentials it is deployed with', () => {
    // With an account in the template's environment, `cdk deploy` refuses credentials of another account, so
    // QA's credentials can no longer put "prod" into QA.
    expect([prodStack.stack.account, prodStack.stack.region]).toEqual([prod.account, prod.region]);
    expect(prodStack.app.synth().getStackByName('OneioRelay-prod').environment).toMatchObject({
      account: prod.account,
      region: prod.region,
    });
    expect([qa.account, qa.region]).toEqual([undefined, undefined]);
    expect(qaStack.app.synth().getStackByName('OneioRelay-qa').environment).toMatchObject({
      account: process.env.CDK_DEFAULT_ACCOUNT ?? 'unknown-account',
      region: process.env.CDK_DEFAULT_REGION ?? 'unknown-region',
    });
  });

  it('protects the stack that retains data against termination, and only that one', () => {
    expect([qaStack.stack.terminationProtection, prodStack.stack.terminationProtection]).toEqual([
      false,
      true,
    ]);
    expect(prodStack.app.synth().getStackByName('OneioRelay-prod').terminationProtection).toBe(true);
  });

  // These ids are what the deployed stacks already have. CloudFormation replaces a resource whose logical id
  // changes, and CDK derives the id from the construct path: renaming or moving a construct would orphan the
  // outbox table and start an empty one, recreate both secrets with placeholders (an outage), give the API a new
  // id (every sender's URL changes) and lose the alarm topic's subscriptions. A change here is never a refactor.
  it.each(both)('$name keeps the logical ids of its stateful resources', ({ s }) => {
    const idsOf = (type: string) => Object.keys(s.template.findResources(type));
    expect(idsOf('AWS::DynamoDB::Table')).toEqual(['RelayStoreTable5DF851D8']);
    expect(idsOf('AWS::SecretsManager::Secret')).toEqual([
      'RelayCredentialsSecretBDCFB102',
      'RelaySigningSecretsSecret54717058',
    ]);
    expect(idsOf('AWS::ApiGatewayV2::Api')).toEqual(['RelayWebhooksApi956EE248']);
    expect(idsOf('AWS::SQS::Queue')).toEqual(['RelayDeadLetterQueue343F1AE9']);
    expect(idsOf('AWS::SNS::Topic')).toEqual(['RelayAlarmsTopicB3F9414A']);
  });

  it('warns at every synth while PROD still has the placeholder account and e-mail', () => {
    const warnings = Annotations.fromStack(prodStack.stack)
      .findWarning('*', Match.stringLikeRegexp('placeholder'))
      .map((w) => w.entry.data);
    expect(warnings).toEqual([
      expect.stringContaining('prod.account is the placeholder "123456789012"'),
      expect.stringContaining('prod.alarmEmail is the placeholder "oncall@example.com"'),
    ]);
    expect(
      Annotations.fromStack(qaStack.stack).findWarning('*', Match.stringLikeRegexp('placeholder')),
    ).toEqual([]);
  });
});

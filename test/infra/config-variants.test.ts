import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { RemovalPolicy } from 'aws-cdk-lib/core';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/relay/contract';
import { qa } from '../../infra/config';
import type { RelayConfig } from '../../infra/config-schema';
import { RelayTable } from '../../infra/constructs/relay-table';
import { authorizationReason } from '../../infra/constructs/webhook-api';
import { walkAlarmWiring } from './alarm-wiring';
import { CDK_JSON_CONTEXT, onlyResource, type SynthesizedRelay, synthRelayApp } from './relay-app';

const ONCALL_TOPIC = 'arn:aws:sns:eu-west-1:210987654321:central-oncall';

/** What an operator who keeps secrets outside the stack and wants alarms by e-mail and on-call topic would write. */
const importing: RelayConfig = {
  ...qa,
  environmentName: 'staging',
  secretNames: { credentials: 'oneio/staging/credentials', signingSecrets: 'oneio/staging/signing' },
  alarmEmail: 'oncall@example.com',
  alarmTopicArn: ONCALL_TOPIC,
  webhookUnauthorizedAlarmThreshold: 3,
  eventRules: [],
  maxBodyBytes: 100_000,
  outboxAgeAlarmMinutes: 15,
  oneio: {
    ...qa.oneio,
    drainRatePerSecond: 25,
    breaker: { failureThreshold: 8, coolDownSeconds: 120, openAlarmMinutes: 30 },
  },
};

// Built once for the file; cdk-nag runs during this synth, so a finding would throw here.
const [s] = synthRelayApp([importing]) as [SynthesizedRelay];

describe('a config that imports its secrets by name', () => {
  it('creates no secret and passes the names to the function', () => {
    s.template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const fn = onlyResource(s.template, 'AWS::Lambda::Function').Properties;
    expect((fn.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      [ENV.credentialsSecretId]: 'oneio/staging/credentials',
      [ENV.signingSecretsSecretId]: 'oneio/staging/signing',
      [ENV.maxBodyBytes]: '100000',
    });
  });

  it('grants GetSecretValue on exactly those names, with the -?????? suffix AWS forces', () => {
    const policy = onlyResource(s.template, 'AWS::IAM::Policy').Properties.PolicyDocument as {
      Statement: { Action: unknown; Resource: unknown }[];
    };
    const secretStatements = policy.Statement.filter((st) => st.Action === 'secretsmanager:GetSecretValue');
    expect(secretStatements).toHaveLength(1);
    const arn = (name: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':secretsmanager:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:secret:${name}-??????`,
        ],
      ],
    });
    expect(secretStatements[0]?.Resource).toEqual([
      arn('oneio/staging/credentials'),
      arn('oneio/staging/signing'),
    ]);
    expect(JSON.stringify(policy)).not.toContain('*');
  });

  it('outputs the imported names', () => {
    const outputs = s.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.CredentialsSecretName?.Value).toBe('oneio/staging/credentials');
    expect(outputs.SigningSecretsSecretName?.Value).toBe('oneio/staging/signing');
  });

  it('still passes cdk-nag', () => {
    expect(new AwsSolutionsChecks(s.app).validateScope(s.app).violations).toEqual([]);
  });
});

describe('a config with its own drain rate and breaker', () => {
  it('passes them to the function and alarms when the breaker stays open its minutes', () => {
    const fn = onlyResource(s.template, 'AWS::Lambda::Function').Properties;
    expect((fn.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      [ENV.drainRatePerSecond]: '25',
      [ENV.breakerThreshold]: '8',
      [ENV.breakerCoolDownSeconds]: '120',
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'BreakerOpenAge',
      Threshold: 1800,
      AlarmDescription: Match.stringLikeRegexp('open for more than 30 minutes'),
    });
  });
});

describe('a config with an alarm e-mail, an existing alarm topic and no EventBridge pattern', () => {
  it('subscribes the address to the alarm topic', () => {
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: s.resolve(s.stack.relay.alarms.topic.topicArn),
    });
  });

  it("notifies the stack's topic and the existing one from every alarm, on ALARM and on OK", () => {
    const topic = s.stack.getLogicalId(s.stack.relay.alarms.topic.node.defaultChild as CfnElement);
    const wiring = walkAlarmWiring(s.template, { Ref: 'AWS::AccountId' }, [ONCALL_TOPIC]);
    expect(wiring.length).toBeGreaterThan(0);
    for (const path of wiring) {
      expect(path).toEqual({
        alarm: path.alarm,
        alarmTopics: [topic],
        okTopics: [topic],
        // Once in AlarmActions, once in OKActions. Its own policy is the topic owner's (see the README).
        external: [ONCALL_TOPIC, ONCALL_TOPIC],
      });
    }
  });

  it('alarms on unauthorized webhooks at the configured threshold', () => {
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'WebhookUnauthorized',
      Threshold: 3,
    });
  });

  it('creates no pattern rule, only the outbox sweep schedule', () => {
    const rules = Object.values(s.template.findResources('AWS::Events::Rule')).map((r) => r.Properties);
    expect(rules).toEqual([expect.objectContaining({ ScheduleExpression: 'rate(1 minute)' })]);
    expect(rules[0]?.EventPattern).toBeUndefined();
  });
});

describe('the relay metric alarms of a third environment', () => {
  const threshold = (t: SynthesizedRelay['template'], metricName: string) => {
    const [alarm] = Object.values(
      t.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metricName } }),
    );
    return alarm?.Properties as { Threshold: number; Dimensions: unknown };
  };

  it('watch its own service name and its configured outbox age, in seconds', () => {
    expect(threshold(s.template, 'OutboxOldestDueAge')).toMatchObject({
      Threshold: 15 * 60,
      Dimensions: [{ Name: 'service', Value: 'oneio-relay-staging' }],
    });
    expect(threshold(s.template, 'OutboxParkedItems').Dimensions).toEqual([
      { Name: 'service', Value: 'oneio-relay-staging' },
    ]);
  });

  it('default to an hour when the config leaves the outbox age out', () => {
    const { outboxAgeAlarmMinutes: _, ...withoutAge } = { ...qa, environmentName: 'dev' };
    const [dev] = synthRelayApp([withoutAge]) as [SynthesizedRelay];
    expect(threshold(dev.template, 'OutboxOldestDueAge').Threshold).toBe(3600);
  });
});

describe('RelayTable with global indexes in the layout', () => {
  const stack = new Stack(new App({ context: CDK_JSON_CONTEXT }), 'IndexTest');
  const relayTable = new RelayTable(stack, 'Store', {
    removalPolicy: RemovalPolicy.DESTROY,
    pointInTimeRecovery: true,
    layout: {
      partitionKey: 'pk',
      ttlAttribute: 'ttl',
      globalIndexes: [
        { name: 'due', partitionKey: { name: 'dueShard', type: 'S' }, sortKey: { name: 'dueAt', type: 'N' } },
        { name: 'parked', partitionKey: { name: 'parkedShard', type: 'S' } },
      ],
    },
  });
  const role = new Role(stack, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
  relayTable.grantRelayAccess(role);
  const template = Template.fromStack(stack);
  const tableArn = stack.resolve(relayTable.table.tableArn);

  it('maps each index of the layout to a GSI', () => {
    const table = onlyResource(template, 'AWS::DynamoDB::Table').Properties;
    expect(table.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'due',
        KeySchema: [
          { AttributeName: 'dueShard', KeyType: 'HASH' },
          { AttributeName: 'dueAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
      {
        IndexName: 'parked',
        KeySchema: [{ AttributeName: 'parkedShard', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
  });

  it('grants Query on each index by exact ARN, nothing more on them, and no Query on the table', () => {
    const policy = onlyResource(template, 'AWS::IAM::Policy').Properties.PolicyDocument;
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
          Resource: tableArn,
        },
        {
          Effect: 'Allow',
          Action: 'dynamodb:Query',
          Resource: [
            { 'Fn::Join': ['', [tableArn, '/index/due']] },
            { 'Fn::Join': ['', [tableArn, '/index/parked']] },
          ],
        },
      ],
    });
  });
});

describe('a config with an unauthenticated source', () => {
  it('warns at synth, naming the source and its IP restriction', () => {
    // Prepare
    const open: RelayConfig = {
      ...qa,
      environmentName: 'open',
      sources: { ...qa.sources, legacy: { scheme: 'unauthenticated', allowCidrs: ['198.51.100.0/24'] } },
    };

    // Act
    const [built] = synthRelayApp([open]) as [SynthesizedRelay];

    // Assess
    const warnings = Annotations.fromStack(built.stack).findWarning(
      '*',
      Match.stringLikeRegexp('unauthenticated'),
    );
    expect(warnings.map((w) => w.entry.data)).toEqual([
      expect.stringContaining('"legacy" is unauthenticated (restricted to 198.51.100.0/24)'),
    ]);
  });

  it('says so in the acknowledgement of the missing API authorizer', () => {
    // Prepare
    const sources = { github: { scheme: 'github' }, legacy: { scheme: 'unauthenticated' } } as const;

    // Act
    const reason = authorizationReason(sources);

    // Assess: the reviewer reading cdk-nag's report learns exactly which source anyone can post to.
    expect(reason).toContain('Authenticated by their scheme: github (github).');
    expect(reason).toContain("NOT authenticated, by this environment's config: legacy (open to anyone)");
    expect(reason).not.toMatch(/every request is authenticated/i);
  });

  it('does not warn when every source is signed', () => {
    expect(
      Annotations.fromStack(s.stack).findWarning('*', Match.stringLikeRegexp('unauthenticated')),
    ).toEqual([]);
  });
});

describe('a config with a custom domain', () => {
  const customDomain = {
    domainName: 'webhooks.example.net',
    certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
  };
  const [d] = synthRelayApp([{ ...qa, environmentName: 'branded', customDomain }]) as [SynthesizedRelay];

  it('serves the API on the domain with the certificate, TLS 1.2, regional', () => {
    expect(onlyResource(d.template, 'AWS::ApiGatewayV2::DomainName').Properties).toEqual({
      Tags: expect.any(Object),
      DomainName: 'webhooks.example.net',
      DomainNameConfigurations: [
        { CertificateArn: customDomain.certificateArn, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' },
      ],
    });
    const [mapping] = Object.values(d.template.findResources('AWS::ApiGatewayV2::ApiMapping'));
    expect(mapping?.Properties).toEqual({
      ApiId: d.resolve(d.stack.relay.api.apiId),
      DomainName: d.resolve(d.stack.relay.webhookDomain?.name),
      Stage: '$default',
    });
    // The stage is named, not referenced: the mapping must wait for it explicitly.
    expect(mapping?.DependsOn).toEqual([expect.stringMatching(/^RelayWebhooksDefaultStage/)]);
  });

  it('gives senders the domain in WebhookBaseUrl and the operator the DNS target', () => {
    const outputs = d.template.toJSON().Outputs as Record<string, { Value: unknown; Description: string }>;
    expect(outputs.WebhookBaseUrl?.Value).toBe('https://webhooks.example.net/webhooks/');
    expect(outputs.WebhookDomainTarget).toEqual({
      Value: d.resolve(d.stack.relay.webhookDomain?.regionalDomainName),
      Description: expect.stringContaining('webhooks.example.net'),
    });
  });

  it('adds no DNS target output without a custom domain', () => {
    expect(s.template.toJSON().Outputs.WebhookDomainTarget).toBeUndefined();
  });
});

describe('a config with an Okta event hook source', () => {
  const okta: RelayConfig = {
    ...qa,
    environmentName: 'okta',
    sources: { ...qa.sources, okta: { scheme: 'token', header: 'Authorization', oktaVerification: true } },
  };
  // cdk-nag runs in this synth too: the GET route needs its acknowledgement like the POST route.
  const [built] = synthRelayApp([okta]) as [SynthesizedRelay];

  it('routes GET /webhooks/{source} to the same function integration as POST, for the verification request', () => {
    const routes = Object.values(built.template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties as { RouteKey: string; Target: unknown },
    );
    expect(routes.map((r) => r.RouteKey).sort()).toEqual([
      'GET /webhooks/{source}',
      'POST /webhooks/{source}',
    ]);
    const integrations = built.template.findResources('AWS::ApiGatewayV2::Integration');
    expect(Object.keys(integrations)).toHaveLength(1);
    const [integrationId, integration] = Object.entries(integrations)[0] as [string, { Properties: unknown }];
    for (const route of routes) {
      expect(route.Target).toEqual({ 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] });
    }
    expect(integration.Properties).toMatchObject({
      IntegrationUri: built.resolve(built.stack.relay.handler.functionArn),
      PayloadFormatVersion: '2.0',
    });
  });

  it('lets API Gateway invoke the function only for the webhook path', () => {
    const permissions = Object.values(built.template.findResources('AWS::Lambda::Permission'))
      .map((p) => p.Properties as { Principal: string; SourceArn: unknown })
      .filter((p) => p.Principal === 'apigateway.amazonaws.com');
    expect(permissions.length).toBeGreaterThan(0);
    for (const p of permissions) expect(JSON.stringify(p.SourceArn)).toContain('/*/*/webhooks/{source}');
  });

  it('adds no GET route when no source declares Okta verification', () => {
    const routes = Object.values(s.template.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.map((r) => (r.Properties as { RouteKey: string }).RouteKey)).toEqual([
      'POST /webhooks/{source}',
    ]);
  });
});

import { App, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/aws-events';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES_LIMIT } from '../../functions/relay/contract';
import { environments, prod, qa } from '../../infra/config';
import { type RelayConfig, RelayConfigError, validateConfig } from '../../infra/config-schema';
import { addRelayStacks } from '../../infra/relay-app';

const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

/** A copy of PROD with `patch` applied; `unknown` lets a test write what TypeScript would refuse. */
function prodWith(patch: Record<string, unknown>): RelayConfig {
  return { ...prod, ...patch } as RelayConfig;
}

describe('the shipped config', () => {
  it('validates for every environment', () => {
    expect(environments.map((c) => c.environmentName)).toEqual(['qa', 'prod']);
    for (const config of environments) expect(() => validateConfig(config)).not.toThrow();
  });

  it('alarms on outbox items an hour overdue in both environments', () => {
    expect([qa.outboxAgeAlarmMinutes, prod.outboxAgeAlarmMinutes]).toEqual([60, 60]);
  });

  it('destroys QA and retains PROD', () => {
    expect([qa.removalPolicy, prod.removalPolicy]).toEqual([RemovalPolicy.DESTROY, RemovalPolicy.RETAIN]);
  });

  it('names where PROD goes and who hears its alarms', () => {
    expect(prod).toMatchObject({ account: expect.stringMatching(/^\d{12}$/), region: 'eu-west-1' });
    expect(prod.alarmEmail ?? prod.alarmTopicArn).toBeDefined();
  });
});

describe('validateConfig', () => {
  it.each([
    [
      'a plain-http token URL',
      { oneio: { ...prod.oneio, tokenUrl: 'http://receiver-authz.service-flow.com/oauth2/token' } },
      'prod.oneio.tokenUrl must be an https:// URL',
    ],
    [
      'a receiver URL that is not a URL',
      { oneio: { ...prod.oneio, receiverUrl: 'rest-receiver/api/v2' } },
      'prod.oneio.receiverUrl must be an https:// URL',
    ],
    [
      'credentials in a URL',
      {
        oneio: { ...prod.oneio, tokenUrl: 'https://id:secret@receiver-authz.service-flow.com/oauth2/token' },
      },
      'prod.oneio.tokenUrl must be an https:// URL without credentials',
    ],
    [
      'a source name with a slash',
      { sources: { 'git/hub': { scheme: 'github' } } },
      'prod.sources.git/hub: a source name must match',
    ],
    [
      'an upper-case source name',
      { sources: { GitHub: { scheme: 'github' } } },
      'prod.sources.GitHub: a source name must match',
    ],
    [
      'an unknown scheme',
      { sources: { github: { scheme: 'md5' } } },
      'prod.sources.github.scheme must be one of',
    ],
    [
      'an hmac source without encoding',
      { sources: { jira: { scheme: 'hmac-sha256', header: 'X-Hub-Signature' } } },
      'prod.sources.jira.encoding must be',
    ],
    [
      'a negative rate limit',
      { throttling: { rateLimit: -1, burstLimit: 10 } },
      'prod.throttling.rateLimit must be a number of requests per second above 0 and at most 10000 (got -1)',
    ],
    [
      'a zero rate limit',
      { throttling: { rateLimit: 0, burstLimit: 10 } },
      'prod.throttling.rateLimit must be',
    ],
    [
      'a negative burst limit',
      { throttling: { rateLimit: 10, burstLimit: -5 } },
      'prod.throttling.burstLimit must be an integer between 1 and 5000 (got -5)',
    ],
    [
      'a fractional burst limit',
      { throttling: { rateLimit: 10, burstLimit: 2.5 } },
      'prod.throttling.burstLimit must be an integer',
    ],
    [
      'a burst above the account quota',
      { throttling: { rateLimit: 10, burstLimit: 10_000 } },
      'prod.throttling.burstLimit must be',
    ],
    ['missing throttling', { throttling: undefined }, 'prod.throttling.rateLimit must be'],
    [
      'reserved concurrency 0 (the function would never run)',
      { reservedConcurrency: 0 },
      'prod.reservedConcurrency must be an integer of at least 1',
    ],
    [
      'a throttle the reserved instances cannot hold while ONEiO is slow (the old PROD values)',
      { throttling: { rateLimit: 100, burstLimit: 200 }, reservedConcurrency: 50 },
      'prod.reservedConcurrency must be at least throttling.rateLimit × the 8 s webhook budget = 100 × 8 = 800 ' +
        'instances, or Lambda refuses what API Gateway admits while ONEiO is slow; lower throttling.rateLimit to 6 ' +
        'or raise reservedConcurrency (got 50)',
    ],
    [
      'a fractional rate that rounds up past the reservation',
      { throttling: { rateLimit: 20.1, burstLimit: 40 }, reservedConcurrency: 160 },
      'prod.reservedConcurrency must be at least throttling.rateLimit × the 8 s webhook budget = 20.1 × 8 = 161',
    ],
    [
      'a retention that is not a RetentionDays value',
      { logRetention: 10 as RetentionDays },
      'prod.logRetention must be a RetentionDays value (got 10)',
    ],
    [
      'a snapshot removal policy',
      { removalPolicy: RemovalPolicy.SNAPSHOT },
      'prod.removalPolicy must be RemovalPolicy.DESTROY or RemovalPolicy.RETAIN',
    ],
    [
      'a malformed alarm e-mail',
      { alarmEmail: 'oncall' },
      'prod.alarmEmail must be an e-mail address (got "oncall")',
    ],
    [
      'a secret name with spaces',
      { secretNames: { credentials: 'oneio credentials' } },
      'prod.secretNames.credentials must be a Secrets Manager secret name',
    ],
    [
      'a body limit over one DynamoDB item',
      { maxBodyBytes: 500 * 1024 },
      `prod.maxBodyBytes must be an integer between 1 and ${MAX_BODY_BYTES_LIMIT}`,
    ],
    [
      'a dedup TTL in milliseconds',
      { dedupTtlSeconds: 86_400_000 },
      'prod.dedupTtlSeconds must be a whole number of seconds',
    ],
    [
      'an outbox max age under a minute',
      { outboxMaxAgeSeconds: 5 },
      'prod.outboxMaxAgeSeconds must be a whole number of seconds',
    ],
    [
      'an outbox age alarm in seconds',
      { outboxAgeAlarmMinutes: 3600 },
      "prod.outboxAgeAlarmMinutes must be a whole number of minutes from 5 up to, not including, the outbox's maximum age (1440 minutes) (got 3600)",
    ],
    [
      'an outbox age alarm shorter than the alarm period',
      { outboxAgeAlarmMinutes: 1 },
      'prod.outboxAgeAlarmMinutes must be a whole number of minutes from 5',
    ],
    [
      'a fractional outbox age alarm',
      { outboxAgeAlarmMinutes: 7.5 },
      'prod.outboxAgeAlarmMinutes must be a whole number of minutes',
    ],
    [
      'an outbox age alarm at the maximum age, where items are parked instead',
      { outboxMaxAgeSeconds: 7200, outboxAgeAlarmMinutes: 120 },
      "prod.outboxAgeAlarmMinutes must be a whole number of minutes from 5 up to, not including, the outbox's maximum age (120 minutes) (got 120)",
    ],
    [
      'no account for an environment that retains data',
      { account: undefined },
      'prod.account must be set in infra/config.ts, because prod retains its data (removalPolicy RETAIN): with ' +
        'the prod 12-digit account id written there, cdk deploy refuses credentials of any other account',
    ],
    [
      'no region for an environment that retains data',
      { region: undefined },
      'prod.region must be set in infra/config.ts, because prod retains its data (removalPolicy RETAIN): with the ' +
        "prod region written there, cdk deploy goes to that region whatever the shell's profile says",
    ],
    [
      'no alarm destination for an environment that retains data',
      { alarmEmail: undefined, alarmTopicArn: undefined },
      'prod.alarmEmail or prod.alarmTopicArn must be set, because prod retains its data (removalPolicy RETAIN): ' +
        'without either its alarms reach nobody',
    ],
    [
      'an alarm topic that is not an SNS ARN',
      { alarmTopicArn: 'oncall-topic' },
      'prod.alarmTopicArn must be the ARN of a standard (not FIFO) SNS topic (got "oncall-topic")',
    ],
    [
      'a FIFO alarm topic (CloudWatch cannot publish to one)',
      { alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:oncall.fifo' },
      'prod.alarmTopicArn must be the ARN of a standard (not FIFO) SNS topic',
    ],
    [
      'an unauthorized-webhooks threshold of 0',
      { webhookUnauthorizedAlarmThreshold: 0 },
      'prod.webhookUnauthorizedAlarmThreshold must be a whole number of refusals (per 5 minutes) of at least 1',
    ],
    [
      'a custom domain with upper-case letters',
      { customDomain: { domainName: 'Webhooks.Example.com', certificateArn: CERTIFICATE_ARN } },
      'prod.customDomain.domainName must be a lower-case host name',
    ],
    [
      'a custom domain with a URL instead of a host name',
      { customDomain: { domainName: 'https://webhooks.example.com/', certificateArn: CERTIFICATE_ARN } },
      'prod.customDomain.domainName must be a lower-case host name',
    ],
    [
      'a custom domain whose certificate is not an ACM ARN',
      { customDomain: { domainName: 'webhooks.example.com', certificateArn: 'my-cert' } },
      'prod.customDomain.certificateArn must be the ARN of an ACM certificate (got "my-cert")',
    ],
    [
      'a custom domain whose certificate is in another region (CloudFront certificates live in us-east-1)',
      {
        customDomain: {
          domainName: 'webhooks.example.com',
          certificateArn: CERTIFICATE_ARN.replace('eu-west-1', 'us-east-1'),
        },
      },
      "prod.customDomain.certificateArn must be a certificate in the stack's region eu-west-1",
    ],
    [
      'a custom domain whose certificate is of another account',
      {
        customDomain: {
          domainName: 'webhooks.example.com',
          certificateArn: CERTIFICATE_ARN.replace('123456789012', '210987654321'),
        },
      },
      "prod.customDomain.certificateArn must be a certificate of the stack's account 123456789012",
    ],
    [
      'an account id that is not 12 digits',
      { account: '1234' },
      'prod.account must be a 12-digit AWS account id (got "1234")',
    ],
    ['a region typo', { region: 'eu-west' }, 'prod.region must be an AWS region like eu-west-1'],
    [
      'a rule pattern without source',
      { eventRules: [{ id: 'All', eventPattern: { detailType: ['x'] } }] },
      'prod.eventRules[0].eventPattern.source must be set',
    ],
    [
      'a rule pattern spelling detail-type',
      { eventRules: [{ id: 'Ec2', eventPattern: { source: ['aws.ec2'], 'detail-type': ['x'] } }] },
      'prod.eventRules[0].eventPattern.detail-type must be one of',
    ],
    [
      'an empty source list',
      { eventRules: [{ id: 'Ec2', eventPattern: { source: [] } }] },
      'prod.eventRules[0].eventPattern.source must be a non-empty list',
    ],
    [
      'two rules with one id',
      {
        eventRules: [
          { id: 'A', eventPattern: { source: ['a'] } },
          { id: 'A', eventPattern: { source: ['b'] } },
        ],
      },
      'prod.eventRules[1].id must be unique',
    ],
    [
      'a rule id with spaces',
      { eventRules: [{ id: 'my rule', eventPattern: { source: ['a'] } }] },
      'prod.eventRules[0].id must be letters, digits and dashes',
    ],
    [
      'a drain rate of zero',
      { oneio: { ...prod.oneio, drainRatePerSecond: 0 } },
      'prod.oneio.drainRatePerSecond must be a whole number of messages per second from 1 to 100 (got 0)',
    ],
    [
      'a fractional drain rate',
      { oneio: { ...prod.oneio, drainRatePerSecond: 2.5 } },
      'prod.oneio.drainRatePerSecond must be a whole number of messages per second from 1 to 100 (got 2.5)',
    ],
    [
      'a breaker that never opens',
      { oneio: { ...prod.oneio, breaker: { failureThreshold: 0 } } },
      'prod.oneio.breaker.failureThreshold must be a whole number of failed deliveries from 1 to 100 (got 0)',
    ],
    [
      'a cool-down in milliseconds',
      { oneio: { ...prod.oneio, breaker: { coolDownSeconds: 60_000 } } },
      'prod.oneio.breaker.coolDownSeconds must be a whole number of seconds from 10 to 3600 (got 60000)',
    ],
    [
      'a breaker alarm shorter than the alarm period',
      { oneio: { ...prod.oneio, breaker: { openAlarmMinutes: 1 } } },
      'prod.oneio.breaker.openAlarmMinutes must be a whole number of minutes from 5 to 1440 (got 1)',
    ],
    [
      'a misspelt breaker field',
      { oneio: { ...prod.oneio, breaker: { threshold: 3 } } },
      'prod.oneio.breaker.threshold must be one of failureThreshold, coolDownSeconds, openAlarmMinutes',
    ],
    [
      'a breaker that is not an object',
      { oneio: { ...prod.oneio, breaker: 5 } },
      'prod.oneio.breaker must be an object',
    ],
  ])('rejects %s, naming the field', (_what, patch, message) => {
    expect(() => validateConfig(prodWith(patch))).toThrow(RelayConfigError);
    expect(() => validateConfig(prodWith(patch))).toThrow(message);
  });

  it('accepts an outbox age alarm just below a shortened maximum age, and none at all', () => {
    expect(() =>
      validateConfig(prodWith({ outboxMaxAgeSeconds: 7200, outboxAgeAlarmMinutes: 119 })),
    ).not.toThrow();
    expect(() => validateConfig(prodWith({ outboxAgeAlarmMinutes: undefined }))).not.toThrow();
  });

  it('leaves account and region to the CLI for an environment that destroys its data', () => {
    expect(qa.removalPolicy).toBe(RemovalPolicy.DESTROY);
    expect([qa.account, qa.region, qa.alarmEmail, qa.alarmTopicArn]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(() => validateConfig(qa)).not.toThrow();
  });

  it('accepts an existing alarm topic instead of an e-mail address', () => {
    const alarmTopicArn = 'arn:aws:sns:eu-west-1:123456789012:oncall';
    expect(() => validateConfig(prodWith({ alarmEmail: undefined, alarmTopicArn }))).not.toThrow();
  });

  it('accepts a rate the reservation holds exactly, and any rate without a reservation', () => {
    expect(() =>
      validateConfig(prodWith({ throttling: { rateLimit: 20, burstLimit: 40 }, reservedConcurrency: 160 })),
    ).not.toThrow();
    expect(() =>
      validateConfig(
        prodWith({ throttling: { rateLimit: 100, burstLimit: 200 }, reservedConcurrency: undefined }),
      ),
    ).not.toThrow();
  });

  it('accepts a custom domain with a certificate of its region', () => {
    const customDomain = { domainName: 'webhooks.example.com', certificateArn: CERTIFICATE_ARN };
    expect(() => validateConfig(prodWith({ customDomain }))).not.toThrow();
  });

  it('rejects an environment name that cannot be part of a stack name', () => {
    expect(() => validateConfig(prodWith({ environmentName: 'Prod EU' }))).toThrow(
      'environmentName must be 1-20 lower-case letters',
    );
  });

  it('rejects sources too large for a Lambda environment variable', () => {
    const sources = Object.fromEntries(
      Array.from({ length: 80 }, (_, i) => [
        `source-${i}`,
        { scheme: 'standard-webhooks', toleranceSeconds: 300 },
      ]),
    );
    expect(() => validateConfig(prodWith({ sources }))).toThrow('prod.sources must be at most 2048 bytes');
  });

  it('fits a source of every scheme, with forwarding options, well within the 2048 bytes of sources', () => {
    // Prepare
    const sources = {
      github: { scheme: 'github', forwardHeaders: ['X-GitHub-Enterprise-Host'] },
      stripe: { scheme: 'stripe' },
      slack: { scheme: 'slack' },
      zoom: { scheme: 'zoom' },
      zendesk: { scheme: 'zendesk' },
      pagerduty: { scheme: 'pagerduty' },
      gitlab: { scheme: 'token', header: 'X-Gitlab-Token', idHeader: 'Idempotency-Key' },
      okta: { scheme: 'token', header: 'Authorization', oktaVerification: true },
      teams: { scheme: 'msteams' },
      graph: { scheme: 'msgraph', forwardQuery: false },
      jira: {
        scheme: 'hmac-sha256',
        header: 'X-Hub-Signature',
        prefix: 'sha256=',
        encoding: 'hex',
        oneioEndpoint: 'itsm',
        envelope: true,
      },
    } as const;

    // Act
    const validated = validateConfig(prodWith({ sources, oneio: { ...prod.oneio, endpoints: ['itsm'] } }));

    // Assess
    expect(Buffer.byteLength(JSON.stringify(validated.sources))).toBeLessThan(1024);
  });

  it('fails the synth for a source that would forward a signature header, naming it', () => {
    expect(() =>
      validateConfig(
        prodWith({ sources: { github: { scheme: 'github', forwardHeaders: ['X-Hub-Signature-256'] } } }),
      ),
    ).toThrow(
      'prod.sources.github.forwardHeaders must not name X-Hub-Signature-256: a credential or signature header',
    );
  });

  it('accepts EventBridge matchers such as Match.prefix', () => {
    const eventRules = [{ id: 'Acme', eventPattern: { source: Match.prefix('com.acme.') } }];
    expect(() => validateConfig(prodWith({ eventRules }))).not.toThrow();
  });

  it('fails the synth before any stack exists when one environment is wrong', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const broken = prodWith({ throttling: { rateLimit: 10, burstLimit: -1 } });
    expect(() => addRelayStacks(app, [qa, broken])).toThrow('prod.throttling.burstLimit must be');
    expect(app.node.children).toHaveLength(0);
  });
});

import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { RelayConfig, RelayEventRule } from './config-schema';

/**
 * Per-environment configuration: the only place where QA and PROD differ. `infra/app.ts` validates both objects
 * before building anything, so a mistake in PROD fails a QA synth too. Field documentation: `config-schema.ts`.
 */

/** Relayed in every environment: AWS Health events for the account become ONEiO messages (rare, operational). */
const awsHealth: RelayEventRule = {
  id: 'AwsHealth',
  description: 'AWS Health events of this account, relayed to ONEiO',
  eventPattern: { source: ['aws.health'] },
};

export const qa: RelayConfig = {
  environmentName: 'qa',
  oneio: {
    tokenUrl: 'https://receiver-authz-test.service-flow.com/oauth2/token',
    receiverUrl: 'https://rest-receiver-test.service-flow.com/api/v2',
  },
  sources: {
    github: { scheme: 'github' },
    stripe: { scheme: 'stripe' },
  },
  eventRules: [awsHealth],
  // Enough for manual and integration testing; keeps a runaway test client from flooding ONEiO's test receiver.
  throttling: { rateLimit: 10, burstLimit: 20 },
  logRetention: RetentionDays.TWO_WEEKS,
  removalPolicy: RemovalPolicy.DESTROY,
  // QA holds test traffic only and is torn down at will.
  pointInTimeRecovery: false,
  outboxAgeAlarmMinutes: 60,
};

/**
 * Where PROD is deployed and who hears its alarms. The values below are the documentation placeholders every synth
 * warns about: put PROD's own account, region and on-call address (or `alarmTopicArn`) here before its first
 * deploy. With an account written here, `cdk deploy OneioRelay-prod` refuses credentials of any other account.
 */
const prodTarget = {
  account: '123456789012',
  region: 'eu-west-1',
  alarmEmail: 'oncall@example.com',
} as const satisfies Pick<RelayConfig, 'account' | 'region' | 'alarmEmail' | 'alarmTopicArn'>;

export const prod: RelayConfig = {
  environmentName: 'prod',
  ...prodTarget,
  oneio: {
    tokenUrl: 'https://receiver-authz.service-flow.com/oauth2/token',
    receiverUrl: 'https://rest-receiver.service-flow.com/api/v2',
  },
  sources: {
    github: { scheme: 'github' },
  },
  eventRules: [awsHealth],
  // 20 webhooks a second is 1.7 million a day. While ONEiO is slow each one holds an instance for the 8 s webhook
  // budget, so 20/s needs 160 instances. Reserving them means what the stage admits, Lambda runs: above the rate
  // API Gateway answers 429 up front, instead of Lambda refusing admitted webhooks with a 5xx. The reservation also
  // caps the load the relay can put on ONEiO and on the account's concurrency pool.
  throttling: { rateLimit: 20, burstLimit: 40 },
  reservedConcurrency: 160,
  logRetention: RetentionDays.THREE_MONTHS,
  removalPolicy: RemovalPolicy.RETAIN,
  pointInTimeRecovery: true,
  // Messages ONEiO has not taken for an hour: an outage or a credentials problem worth waking up for.
  outboxAgeAlarmMinutes: 60,
};

/** Every deployable environment, in deployment order. */
export const environments: readonly RelayConfig[] = [qa, prod];

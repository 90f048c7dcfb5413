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

export const prod: RelayConfig = {
  environmentName: 'prod',
  oneio: {
    tokenUrl: 'https://receiver-authz.service-flow.com/oauth2/token',
    receiverUrl: 'https://rest-receiver.service-flow.com/api/v2',
  },
  sources: {
    github: { scheme: 'github' },
  },
  eventRules: [awsHealth],
  throttling: { rateLimit: 100, burstLimit: 200 },
  // Caps the load the relay can put on ONEiO and on the account's concurrency pool during a webhook storm.
  reservedConcurrency: 50,
  logRetention: RetentionDays.THREE_MONTHS,
  removalPolicy: RemovalPolicy.RETAIN,
  pointInTimeRecovery: true,
  // Messages ONEiO has not taken for an hour: an outage or a credentials problem worth waking up for.
  outboxAgeAlarmMinutes: 60,
  // No alarmEmail yet: subscribe the on-call address here (or to the AlarmTopic output) before going live.
};

/** Every deployable environment, in deployment order. */
export const environments: readonly RelayConfig[] = [qa, prod];

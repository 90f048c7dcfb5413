import { RemovalPolicy } from 'aws-cdk-lib';
import { type EventPattern, Match } from 'aws-cdk-lib/aws-events';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DEFAULTS, LIMITS, MAX_BODY_BYTES_LIMIT } from '../functions/relay/contract';
import {
  ONEIO_ENDPOINT_NAME_PATTERN,
  parseSourceDeclarations,
  SourceDeclarationError,
  type SourceDeclarations,
} from '../functions/relay/core/inbound/source-declaration';
import { WEBHOOK_BUDGET_MS } from '../functions/relay/events/webhook-handler';

/** The ONEiO endpoints of one environment (see the ONEiO facts in the project's shared notes). */
export interface OneioEndpoints {
  /** OAuth 2.0 token endpoint, `https://…/oauth2/token`. */
  readonly tokenUrl: string;
  /** REST receiver the relay POSTs every message to, `https://…/api/v2`. */
  readonly receiverUrl: string;
  /**
   * Named ONEiO endpoints besides the default one: each is a credential pair in the credentials secret
   * (`endpoints.<name>`), and a source or event rule sends to it with `oneioEndpoint: '<name>'`. Every name here must
   * be used by a source or rule, and every name a source or rule uses must be here.
   *
   * @default - the default pair only
   */
  readonly endpoints?: readonly string[];
  /**
   * Most messages per second the outbox sweep sends to ONEiO, oldest first, so a recovering ONEiO is not buried
   * under the backlog (live messages are sent as they come). A whole number from 1 to 100.
   *
   * @default DEFAULTS.drainRatePerSecond from functions/relay/contract.ts (10)
   */
  readonly drainRatePerSecond?: number;
  /** When the relay stops sending to a failing ONEiO, and for how long. @default - the defaults of each field */
  readonly breaker?: RelayBreaker;
}

/** The circuit breaker in front of ONEiO's receiver. */
export interface RelayBreaker {
  /**
   * Failed deliveries in a row, across the fleet, that open the breaker (live messages then go straight to the
   * outbox). A whole number from 1 to 100.
   *
   * @default DEFAULTS.breakerThreshold from functions/relay/contract.ts (5)
   */
  readonly failureThreshold?: number;
  /**
   * Seconds an open breaker waits before a sweep probes ONEiO with one message (10 to 3600).
   *
   * @default DEFAULTS.breakerCoolDownSeconds from functions/relay/contract.ts (60)
   */
  readonly coolDownSeconds?: number;
  /**
   * The `BreakerOpen` alarm fires when the breaker has stayed open longer than this many minutes (5 to 1440).
   *
   * @default 15 ({@link DEFAULT_BREAKER_OPEN_ALARM_MINUTES})
   */
  readonly openAlarmMinutes?: number;
}

/** Where the relay's two secrets live. */
export interface RelaySecretNames {
  /**
   * Name of an existing secret holding `{"client_id": "…", "client_secret": "…"}` (and the pairs of `oneio.endpoints`
   * under `endpoints`), imported by name.
   *
   * @default - the stack creates the secret (generated name, see the `CredentialsSecretName` output)
   */
  readonly credentials?: string;
  /**
   * Name of an existing secret holding `{"<source>": "<signing secret>"}`, imported by name. May be the same
   * secret as `credentials`: the relay ignores keys it does not know.
   *
   * @default - the stack creates the secret (generated name, see the `SigningSecretsSecretName` output)
   */
  readonly signingSecrets?: string;
}

/** One EventBridge rule on the default bus whose matching events are relayed to ONEiO. */
export interface RelayEventRule {
  /** Construct id of the rule, unique per environment (letters, digits, dashes). The rule's name is generated. */
  readonly id: string;
  /** @default - no description */
  readonly description?: string;
  /**
   * EventBridge pattern, in CDK's spelling (`detailType`, not `detail-type`). Must name a `source`, so a rule can
   * never relay every event of the account by accident.
   */
  readonly eventPattern: EventPattern;
  /**
   * The named ONEiO endpoint (one of `oneio.endpoints`) to receive the rule's events. The rule then invokes the
   * function through that endpoint's alias (`oneio-endpoint-<name>`), so the event itself passes unchanged.
   *
   * @default - the default pair
   */
  readonly oneioEndpoint?: string;
}

/** Stage-wide throttling of the webhook API (API Gateway answers `429` above it, the function is not invoked). */
export interface ApiThrottling {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the steady rate. */
  readonly burstLimit: number;
}

/** A custom domain for the webhook API, so sender URLs survive a replaced API and read as yours. */
export interface WebhookDomain {
  /** Lower-case host name senders call, e.g. `webhooks.example.com`; point its DNS at the `WebhookDomainTarget` output. */
  readonly domainName: string;
  /** ARN of an ACM certificate for `domainName`, issued in the stack's region (a regional API needs one there). */
  readonly certificateArn: string;
}

/** Everything that differs between two deployments of the relay. */
export interface OneioRelayProps {
  /** Environment name, lower case (`qa`, `prod`): the stack is `OneioRelay-<name>`, resources are tagged with it. */
  readonly environmentName: string;
  readonly oneio: OneioEndpoints;
  /** @default - both secrets are created by the stack */
  readonly secretNames?: RelaySecretNames;
  /** Webhook sources accepted on `POST /webhooks/{source}`, validated with `parseSourceDeclarations`. */
  readonly sources: SourceDeclarations;
  /**
   * Largest accepted inbound body, in bytes.
   *
   * @default DEFAULTS.maxBodyBytes from functions/relay/contract.ts (256 KiB)
   */
  readonly maxBodyBytes?: number;
  /**
   * How long a delivery id is remembered, so a sender's retry of the same webhook is not relayed twice.
   *
   * @default DEFAULTS.dedupTtlSeconds from functions/relay/contract.ts (24 h)
   */
  readonly dedupTtlSeconds?: number;
  /**
   * How long the outbox keeps retrying an undelivered message before parking it for the operator.
   *
   * @default DEFAULTS.outboxMaxAgeSeconds from functions/relay/contract.ts (24 h)
   */
  readonly outboxMaxAgeSeconds?: number;
  /**
   * The `OutboxOldestDueAge` alarm fires when a message due for a retry has waited longer than this since the relay
   * first received it. Below the outbox's maximum age, so it warns before messages are parked.
   *
   * @default 60 ({@link DEFAULT_OUTBOX_AGE_ALARM_MINUTES})
   */
  readonly outboxAgeAlarmMinutes?: number;
  /** @default - no EventBridge rule: the relay only receives webhooks */
  readonly eventRules?: readonly RelayEventRule[];
  readonly throttling: ApiThrottling;
  /**
   * Reserved concurrency of the function: caps what the relay can take from the account's pool and the load it
   * can put on ONEiO.
   *
   * When set, it must hold `throttling.rateLimit` × the webhook budget (8 s): while ONEiO is slow every admitted
   * webhook holds an instance that long, and Lambda answers the excess with throttling errors.
   *
   * @default - unreserved (shares the account's unreserved pool)
   */
  readonly reservedConcurrency?: number;
  /** Retention of the function's and the API's log groups. */
  readonly logRetention: RetentionDays;
  /** What happens to stateful resources (table, created secrets, log groups, queue) when the stack is deleted. */
  readonly removalPolicy: RemovalPolicy.DESTROY | RemovalPolicy.RETAIN;
  /**
   * DynamoDB point-in-time recovery on the relay table (outbox items are messages not yet delivered).
   *
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * E-mail address subscribed to the stack's alarm topic (the address confirms the subscription once).
   * An environment with `removalPolicy: RETAIN` needs this or `alarmTopicArn`.
   *
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * ARN of an existing standard SNS topic (a central on-call, PagerDuty or Chatbot topic, in the stack's region)
   * every alarm also notifies. Its policy must let `cloudwatch.amazonaws.com` publish. An environment with
   * `removalPolicy: RETAIN` needs this or `alarmEmail`.
   *
   * @default - alarms notify the stack's own topic only
   */
  readonly alarmTopicArn?: string;
  /**
   * The `WebhooksUnauthorized` alarm fires when this many webhooks are refused for their signature (or source IP)
   * within 5 minutes: a wrong signing secret on one side, or somebody probing.
   *
   * @default 10 ({@link DEFAULT_WEBHOOK_UNAUTHORIZED_ALARM_THRESHOLD})
   */
  readonly webhookUnauthorizedAlarmThreshold?: number;
  /**
   * Serve the webhook API on this domain too; `WebhookBaseUrl` then uses it.
   *
   * @default - senders use the API's `execute-api` URL
   */
  readonly customDomain?: WebhookDomain;
}

/**
 * One environment's configuration: the construct's props plus where the stack is deployed. An environment that
 * retains data (`removalPolicy: RETAIN`) must name both: `cdk deploy` then refuses credentials of another account
 * instead of deploying that environment wherever the shell happens to point.
 */
export interface RelayConfig extends OneioRelayProps {
  /** @default - CDK_DEFAULT_ACCOUNT, i.e. the account of the credentials the CLI runs with (not allowed with RETAIN) */
  readonly account?: string;
  /** @default - CDK_DEFAULT_REGION, i.e. the region of the CLI's profile (not allowed with RETAIN) */
  readonly region?: string;
}

const MAX_RETENTION_SECONDS = 30 * 24 * 3600;

/** Default of {@link OneioRelayProps.outboxAgeAlarmMinutes}: an hour of ONEiO not taking a message. */
export const DEFAULT_OUTBOX_AGE_ALARM_MINUTES = 60;
/** The alarms evaluate 5-minute periods; a shorter age threshold would not be seen any sooner. */
const MIN_OUTBOX_AGE_ALARM_MINUTES = 5;
/** Default of {@link RelayBreaker.openAlarmMinutes}: a quarter of an hour of ONEiO failing every probe. */
export const DEFAULT_BREAKER_OPEN_ALARM_MINUTES = 15;
/** Below this a cool-down only adds probes: the sweep runs once a minute anyway. */
const MIN_BREAKER_COOL_DOWN_SECONDS = 10;
/** Default of {@link OneioRelayProps.webhookUnauthorizedAlarmThreshold}: refusals in 5 minutes. */
export const DEFAULT_WEBHOOK_UNAUTHORIZED_ALARM_THRESHOLD = 10;

export class RelayConfigError extends Error {
  override readonly name = 'RelayConfigError';
}

/**
 * Checks one environment's configuration, the construct's props and where it is deployed, before any resource is
 * built; returns it with the sources parsed. Throws {@link RelayConfigError} whose message names the field, e.g.
 * `prod.throttling.burstLimit must be …`.
 */
export function validateConfig<T extends RelayConfig>(config: T): T {
  const validated = validateRelayProps(config);
  const env = config.environmentName;
  const fail = failFor(env);
  // Left out, the shell's credentials and profile decide: QA's would deploy "prod" into QA's account.
  const retains = `because ${env} retains its data (removalPolicy RETAIN)`;
  if (config.removalPolicy === RemovalPolicy.RETAIN && config.account === undefined) {
    fail(
      'account',
      `set in infra/config.ts, ${retains}: with the ${env} 12-digit account id written there, cdk deploy ` +
        'refuses credentials of any other account',
    );
  }
  if (config.removalPolicy === RemovalPolicy.RETAIN && config.region === undefined) {
    fail(
      'region',
      `set in infra/config.ts, ${retains}: with the ${env} region written there, cdk deploy goes to that region ` +
        "whatever the shell's profile says",
    );
  }
  if (config.account !== undefined && !/^\d{12}$/.test(config.account)) {
    fail('account', 'a 12-digit AWS account id', config.account);
  }
  if (config.region !== undefined && !REGION.test(config.region)) {
    fail('region', 'an AWS region like eu-west-1', config.region);
  }
  // arn:<partition>:acm:<region>:<account>:certificate/<id>; a regional API domain takes a certificate of its own
  // account and region only.
  const [, , , certificateRegion, certificateAccount] = config.customDomain?.certificateArn.split(':') ?? [];
  if (config.region !== undefined && certificateRegion !== undefined && certificateRegion !== config.region) {
    fail(
      'customDomain.certificateArn',
      `a certificate in the stack's region ${config.region} (a regional API domain cannot use one from elsewhere)`,
      config.customDomain?.certificateArn,
    );
  }
  if (
    config.account !== undefined &&
    certificateAccount !== undefined &&
    certificateAccount !== config.account
  ) {
    fail(
      'customDomain.certificateArn',
      `a certificate of the stack's account ${config.account}`,
      config.customDomain?.certificateArn,
    );
  }
  return validated;
}

/**
 * Checks the construct's props (everything but where the stack goes) and returns them with the sources parsed.
 * Throws {@link RelayConfigError} naming the field.
 */
export function validateRelayProps<T extends OneioRelayProps>(config: T): T {
  const env = config.environmentName;
  if (typeof env !== 'string' || !/^[a-z][a-z0-9-]{0,19}$/.test(env)) {
    throw new RelayConfigError(
      `environmentName must be 1-20 lower-case letters, digits or dashes, starting with a letter (got ${JSON.stringify(env)})`,
    );
  }
  const fail = failFor(env);

  checkHttpsUrl(config.oneio?.tokenUrl, 'oneio.tokenUrl', fail);
  checkHttpsUrl(config.oneio?.receiverUrl, 'oneio.receiverUrl', fail);
  checkDelivery(config.oneio ?? {}, fail);

  for (const key of ['credentials', 'signingSecrets'] as const) {
    const name = config.secretNames?.[key];
    // Secrets Manager's own name rule; the relay passes the name as SecretId, so it must be usable as one.
    if (name !== undefined && !/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(name)) {
      fail(`secretNames.${key}`, 'a Secrets Manager secret name (letters, digits and /_+=.@-)', name);
    }
  }

  let sources: SourceDeclarations;
  try {
    sources = parseSourceDeclarations(config.sources);
  } catch (error) {
    if (error instanceof SourceDeclarationError) throw new RelayConfigError(`${env}.${error.message}`);
    throw error;
  }

  // The declarations travel to the function as one environment variable, and Lambda caps them all at 4 KB.
  if (Buffer.byteLength(JSON.stringify(sources)) > 2048) {
    fail('sources', 'at most 2048 bytes as JSON (Lambda allows 4 KB of environment variables in all)');
  }

  const maxBodyBytes = config.maxBodyBytes ?? DEFAULTS.maxBodyBytes;
  // A body the relay could not deliver at once is queued whole in one DynamoDB item (400 KB at most).
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1 || maxBodyBytes > MAX_BODY_BYTES_LIMIT) {
    fail(
      'maxBodyBytes',
      `an integer between 1 and ${MAX_BODY_BYTES_LIMIT} (one DynamoDB item must hold a queued body)`,
      maxBodyBytes,
    );
  }
  for (const key of ['dedupTtlSeconds', 'outboxMaxAgeSeconds'] as const) {
    const seconds = config[key];
    // The upper bound catches milliseconds written where seconds are meant.
    if (
      seconds !== undefined &&
      (!Number.isInteger(seconds) || seconds < 60 || seconds > MAX_RETENTION_SECONDS)
    ) {
      fail(key, `a whole number of seconds between 60 and ${MAX_RETENTION_SECONDS} (30 days)`, seconds);
    }
  }

  const ageAlarmMinutes = config.outboxAgeAlarmMinutes;
  const maxAgeMinutes = (config.outboxMaxAgeSeconds ?? DEFAULTS.outboxMaxAgeSeconds) / 60;
  // At the maximum age the sweep parks the item instead: a threshold there or above could never fire.
  if (
    ageAlarmMinutes !== undefined &&
    (!Number.isInteger(ageAlarmMinutes) ||
      ageAlarmMinutes < MIN_OUTBOX_AGE_ALARM_MINUTES ||
      ageAlarmMinutes >= maxAgeMinutes)
  ) {
    fail(
      'outboxAgeAlarmMinutes',
      `a whole number of minutes from ${MIN_OUTBOX_AGE_ALARM_MINUTES} up to, not including, the outbox's maximum ` +
        `age (${maxAgeMinutes} minutes)`,
      ageAlarmMinutes,
    );
  }

  checkEventRules(config.eventRules ?? [], fail);
  checkOneioEndpoints(config.oneio?.endpoints, sources, config.eventRules ?? [], fail);

  const { rateLimit, burstLimit } = config.throttling ?? {};
  // Above API Gateway's default account quota (10,000 rps, burst 5,000) a stage limit has no effect.
  if (typeof rateLimit !== 'number' || !Number.isFinite(rateLimit) || rateLimit <= 0 || rateLimit > 10_000) {
    fail('throttling.rateLimit', 'a number of requests per second above 0 and at most 10000', rateLimit);
  }
  if (!Number.isInteger(burstLimit) || (burstLimit as number) < 1 || (burstLimit as number) > 5_000) {
    fail('throttling.burstLimit', 'an integer between 1 and 5000', burstLimit);
  }

  const reserved = config.reservedConcurrency;
  // 0 would stop the function entirely; that is an outage, not a setting.
  if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 1)) {
    fail('reservedConcurrency', 'an integer of at least 1 (or left out)', reserved);
  }
  // While ONEiO is slow each admitted webhook holds an instance for the whole budget. What the stage admits beyond
  // the reserved instances, Lambda refuses with a throttling error the sender sees as a 5xx, and GitHub does not
  // retry: the stage must throttle first, with a 429 that says why and costs no invocation.
  const budgetSeconds = WEBHOOK_BUDGET_MS / 1000;
  const needed = Math.ceil((rateLimit as number) * budgetSeconds);
  if (reserved !== undefined && needed > reserved) {
    fail(
      'reservedConcurrency',
      `at least throttling.rateLimit × the ${budgetSeconds} s webhook budget = ${rateLimit} × ${budgetSeconds} = ` +
        `${needed} instances, or Lambda refuses what API Gateway admits while ONEiO is slow; lower ` +
        `throttling.rateLimit to ${Math.floor(reserved / budgetSeconds)} or raise reservedConcurrency`,
      reserved,
    );
  }

  if (!(Object.values(RetentionDays) as unknown[]).includes(config.logRetention)) {
    fail('logRetention', 'a RetentionDays value', config.logRetention);
  }
  if (config.removalPolicy !== RemovalPolicy.DESTROY && config.removalPolicy !== RemovalPolicy.RETAIN) {
    fail('removalPolicy', 'RemovalPolicy.DESTROY or RemovalPolicy.RETAIN', config.removalPolicy);
  }
  if (config.pointInTimeRecovery !== undefined && typeof config.pointInTimeRecovery !== 'boolean') {
    fail('pointInTimeRecovery', 'true or false', config.pointInTimeRecovery);
  }
  if (config.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(config.alarmEmail)) {
    fail('alarmEmail', 'an e-mail address', config.alarmEmail);
  }
  // CloudWatch cannot publish alarm notifications to a FIFO topic.
  if (config.alarmTopicArn !== undefined && !SNS_TOPIC_ARN.test(config.alarmTopicArn)) {
    fail('alarmTopicArn', 'the ARN of a standard (not FIFO) SNS topic', config.alarmTopicArn);
  }
  if (
    config.removalPolicy === RemovalPolicy.RETAIN &&
    config.alarmEmail === undefined &&
    config.alarmTopicArn === undefined
  ) {
    throw new RelayConfigError(
      `${env}.alarmEmail or ${env}.alarmTopicArn must be set, because ${env} retains its data (removalPolicy ` +
        'RETAIN): without either its alarms reach nobody',
    );
  }
  const unauthorized = config.webhookUnauthorizedAlarmThreshold;
  if (unauthorized !== undefined && (!Number.isInteger(unauthorized) || unauthorized < 1)) {
    fail(
      'webhookUnauthorizedAlarmThreshold',
      'a whole number of refusals (per 5 minutes) of at least 1',
      unauthorized,
    );
  }
  if (config.customDomain !== undefined) checkCustomDomain(config.customDomain, fail);

  return { ...config, sources };
}

/** Throws naming the field; `value`, when passed, is quoted in the message so the operator sees what was read. */
type Fail = (field: string, rule: string, ...value: [unknown?]) => never;

function failFor(env: string): Fail {
  return (field, rule, ...value) => {
    const got = value.length > 0 ? ` (got ${show(value[0])})` : '';
    throw new RelayConfigError(`${env}.${field} must be ${rule}${got}`);
  };
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z]{2}(-[a-z]+)+-\d:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const ACM_CERTIFICATE_ARN = /^arn:aws[a-z-]*:acm:[a-z]{2}(-[a-z]+)+-\d:\d{12}:certificate\/[0-9a-f-]{36}$/;
/** A DNS host name of at least two labels, lower case as API Gateway stores it. */
const HOST_NAME = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

function checkCustomDomain(domain: WebhookDomain, fail: Fail): void {
  if (typeof domain !== 'object' || domain === null) {
    fail('customDomain', 'an object with domainName and certificateArn');
  }
  if (typeof domain.domainName !== 'string' || !HOST_NAME.test(domain.domainName)) {
    fail('customDomain.domainName', 'a lower-case host name like webhooks.example.com', domain.domainName);
  }
  if (typeof domain.certificateArn !== 'string' || !ACM_CERTIFICATE_ARN.test(domain.certificateArn)) {
    fail('customDomain.certificateArn', 'the ARN of an ACM certificate', domain.certificateArn);
  }
}

function show(value: unknown): string {
  return typeof value === 'number' || value === undefined ? String(value) : JSON.stringify(value);
}

function checkHttpsUrl(value: unknown, field: string, fail: Fail): void {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  // Credentials in the URL would end up in the function's environment and in every log line that prints it.
  if (
    url === undefined ||
    url.protocol !== 'https:' ||
    url.username !== '' ||
    url.password !== '' ||
    url.hash
  ) {
    fail(field, 'an https:// URL without credentials or fragment', value);
  }
}

/** A whole number from `min` to `max`, or left out. */
function checkWhole(value: unknown, field: string, min: number, max: number, unit: string, fail: Fail): void {
  if (
    value !== undefined &&
    (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
  ) {
    fail(field, `a whole number of ${unit} from ${min} to ${max}`, value);
  }
}

/** The drain rate and the circuit breaker. */
function checkDelivery(oneio: Partial<OneioEndpoints>, fail: Fail): void {
  checkWhole(
    oneio.drainRatePerSecond,
    'oneio.drainRatePerSecond',
    1,
    LIMITS.drainRatePerSecond,
    'messages per second',
    fail,
  );
  const breaker: unknown = oneio.breaker;
  if (breaker === undefined) return;
  if (typeof breaker !== 'object' || breaker === null || Array.isArray(breaker)) {
    fail('oneio.breaker', 'an object with failureThreshold, coolDownSeconds, openAlarmMinutes', breaker);
  }
  const known = ['failureThreshold', 'coolDownSeconds', 'openAlarmMinutes'];
  for (const key of Object.keys(breaker as object)) {
    if (!known.includes(key)) fail(`oneio.breaker.${key}`, `one of ${known.join(', ')}`);
  }
  const { failureThreshold, coolDownSeconds, openAlarmMinutes } = breaker as RelayBreaker;
  checkWhole(
    failureThreshold,
    'oneio.breaker.failureThreshold',
    1,
    LIMITS.breakerThreshold,
    'failed deliveries',
    fail,
  );
  checkWhole(
    coolDownSeconds,
    'oneio.breaker.coolDownSeconds',
    MIN_BREAKER_COOL_DOWN_SECONDS,
    LIMITS.breakerCoolDownSeconds,
    'seconds',
    fail,
  );
  checkWhole(openAlarmMinutes, 'oneio.breaker.openAlarmMinutes', 5, 1440, 'minutes', fail);
}

/** The fields of CDK's `EventPattern`; anything else is a typo (often `detail-type` for `detailType`). */
const EVENT_PATTERN_FIELDS: readonly string[] = [
  'version',
  'id',
  'detailType',
  'source',
  'account',
  'time',
  'region',
  'resources',
  'detail',
];

function checkEventRules(rules: readonly RelayEventRule[], fail: Fail): void {
  if (!Array.isArray(rules)) fail('eventRules', 'a list of rules');
  const seen = new Set<string>();
  rules.forEach((rule, i) => {
    const at = `eventRules[${i}]`;
    if (typeof rule?.id !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(rule.id)) {
      fail(`${at}.id`, 'letters, digits and dashes, starting with a letter', rule?.id);
    }
    if (seen.has(rule.id)) fail(`${at}.id`, 'unique within the environment', rule.id);
    seen.add(rule.id);
    const pattern: unknown = rule.eventPattern;
    if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) {
      fail(`${at}.eventPattern`, 'an EventBridge pattern object');
    }
    for (const [key, value] of Object.entries(pattern as Record<string, unknown>)) {
      if (!EVENT_PATTERN_FIELDS.includes(key)) {
        fail(
          `${at}.eventPattern.${key}`,
          `one of ${EVENT_PATTERN_FIELDS.join(', ')} (CDK spells detail-type detailType)`,
        );
      }
      if (key !== 'detail' && !isMatcherList(value)) {
        fail(`${at}.eventPattern.${key}`, 'a non-empty list of values or an events.Match matcher');
      }
    }
    if ((pattern as EventPattern).source === undefined) {
      fail(`${at}.eventPattern.source`, 'set, so the rule cannot relay every event on the bus');
    }
  });
}

/**
 * `oneio.endpoints` declares the named ONEiO endpoints, sources and rules name them: a name on one side only is a
 * typo or a leftover, and either would fail at run time (a message for an endpoint nobody set up, or a credential
 * pair kept for nothing), so it fails the synth instead.
 */
function checkOneioEndpoints(
  declared: readonly string[] | undefined,
  sources: SourceDeclarations,
  rules: readonly RelayEventRule[],
  fail: Fail,
): void {
  if (declared !== undefined && !Array.isArray(declared)) fail('oneio.endpoints', 'a list of endpoint names');
  const names = new Set<string>();
  (declared ?? []).forEach((name, i) => {
    if (typeof name !== 'string' || !ONEIO_ENDPOINT_NAME_PATTERN.test(name)) {
      fail(`oneio.endpoints[${i}]`, `an endpoint name matching ${ONEIO_ENDPOINT_NAME_PATTERN}`, name);
    }
    if (names.has(name)) fail(`oneio.endpoints[${i}]`, 'unique', name);
    names.add(name);
  });
  const used = new Set<string>();
  const known = (field: string, name: string) => {
    used.add(name);
    if (!names.has(name)) {
      fail(
        field,
        `one of oneio.endpoints (${names.size === 0 ? 'none declared' : [...names].join(', ')}): declare it there, ` +
          `e.g. oneio: { …, endpoints: ['${name}'] }, and put its pair in the credentials secret`,
        name,
      );
    }
  };
  for (const [source, declaration] of Object.entries(sources)) {
    if (declaration.oneioEndpoint !== undefined)
      known(`sources.${source}.oneioEndpoint`, declaration.oneioEndpoint);
  }
  rules.forEach((rule, i) => {
    if (rule.oneioEndpoint === undefined) return;
    if (typeof rule.oneioEndpoint !== 'string' || !ONEIO_ENDPOINT_NAME_PATTERN.test(rule.oneioEndpoint)) {
      fail(
        `eventRules[${i}].oneioEndpoint`,
        `an endpoint name matching ${ONEIO_ENDPOINT_NAME_PATTERN}`,
        rule.oneioEndpoint,
      );
    }
    known(`eventRules[${i}].oneioEndpoint`, rule.oneioEndpoint);
  });
  [...names].forEach((name, i) => {
    if (!used.has(name)) {
      fail(`oneio.endpoints[${i}]`, 'named by a source or an event rule (oneioEndpoint), or removed', name);
    }
  });
}

function isMatcherList(value: unknown): boolean {
  // `Match.prefix()` and friends are typed as string[] but are Match objects that resolve at synth.
  return (Array.isArray(value) && value.length > 0) || value instanceof Match;
}

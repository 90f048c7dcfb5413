import * as path from 'node:path';
import { Annotations, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { DomainName, HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Alias,
  Architecture,
  type IFunction,
  type IVersion,
  LoggingFormat,
  Runtime,
} from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS, ENDPOINT_ALIAS_PREFIX, ENV, type EnvName, SWEEP_EVENT } from '../functions/relay/contract';
import type { SourceDeclarations } from '../functions/relay/core/inbound/source-declaration';
import {
  DEFAULT_BREAKER_OPEN_ALARM_MINUTES,
  DEFAULT_OUTBOX_AGE_ALARM_MINUTES,
  DEFAULT_WEBHOOK_UNAUTHORIZED_ALARM_THRESHOLD,
  type OneioRelayProps,
  validateRelayProps,
} from './config-schema';
import { RelayAlarms } from './constructs/relay-alarms';
import { RelayDashboard } from './constructs/relay-dashboard';
import { RelaySecret, type RelaySecretResource } from './constructs/relay-secret';
import { RelayTable } from './constructs/relay-table';
import { WebhookApi } from './constructs/webhook-api';

export type { OneioRelayProps } from './config-schema';

const PROJECT_ROOT = path.join(__dirname, '..');
/** The function's entry point; it exports `handler`. */
const RELAY_ENTRY = path.join(PROJECT_ROOT, 'functions', 'relay', 'handler.ts');

/**
 * Webhook senders give up after ~10 s (GitHub) and API Gateway after 30 s: the webhook path answers within
 * ~8 s of its own budget, and 25 s leaves the EventBridge path room to retry without ever outliving the API's
 * integration timeout. The outbox sweep stops taking items once one more item's budget (6 s) would not end 2 s
 * before the timeout, and its claim on an item (2 min) outlasts the timeout, so a sweep cut short never races the
 * next one.
 */
const FUNCTION_TIMEOUT = Duration.seconds(25);
/**
 * Lambda gives CPU in proportion to memory. The relay is I/O-bound, but cold start (parsing a bundle with the AWS
 * SDK inside) and TLS handshakes to ONEiO are CPU work on the webhook's critical path; 512 MB roughly halves them
 * against 128 MB while an idle arm64 function still costs nothing.
 */
const FUNCTION_MEMORY_MB = 512;
/**
 * How long an EventBridge event may wait in Lambda's asynchronous queue (retries and throttling included) before it
 * goes to the dead-letter queue: as long as EventBridge itself keeps trying to hand it over. Longer would only hide
 * an outage from the DeadLetters alarm; the queue keeps the event 14 days for a redrive.
 */
const EVENT_MAX_AGE = Duration.hours(2);
/** The alias the outbox schedule invokes, so that sweeps get their own asynchronous settings. */
export const SWEEP_ALIAS_NAME = 'outbox-sweep';

/** CloudWatch namespace of the relay's own (embedded-format) metrics, shared by every environment. */
export const METRICS_NAMESPACE = 'OneioRelay';

/**
 * Powertools service name of one environment: the `service` key of every log line and the `service` dimension of
 * every relay metric, so QA and PROD in one account and region publish apart and each alarms on its own metrics.
 */
export function relayServiceName(environmentName: string): string {
  return `oneio-relay-${environmentName}`;
}

/**
 * The relay for one environment: function, table, secrets, webhook API, EventBridge rules, outbox sweep schedule,
 * dead-letter queue, alarms, dashboard, and a role that can do exactly what the code does.
 */
export class OneioRelay extends Construct {
  readonly handler: NodejsFunction;
  readonly role: Role;
  readonly functionLogGroup: LogGroup;
  readonly table: Table;
  readonly credentialsSecret: RelaySecretResource;
  readonly signingSecretsSecret: RelaySecretResource;
  readonly api: HttpApi;
  /** The API's access logs, under `/aws/vendedlogs/`. */
  readonly accessLogGroup: LogGroup;
  /** `https://…/webhooks/`; a sender's URL is this plus its source name. */
  readonly webhookBaseUrl: string;
  /** The API's custom domain, when the config names one; its DNS record points at `regionalDomainName`. */
  readonly webhookDomain?: DomainName;
  /** Receives EventBridge events whose delivery to the function failed and failed asynchronous invocations. */
  readonly deadLetterQueue: Queue;
  readonly eventRules: readonly Rule[];
  /**
   * One alias per named ONEiO endpoint that an event rule uses (`oneio-endpoint-<name>`), by endpoint name: the
   * rules of that endpoint invoke it, and the function reads the endpoint from the alias. Same code and the same
   * asynchronous settings (retries, dead-letter queue) as the function itself.
   */
  readonly endpointAliases: ReadonlyMap<string, Alias>;
  /** Invokes {@link sweepAlias} every minute with {@link SWEEP_EVENT} to deliver what the outbox holds. */
  readonly outboxSweep: Rule;
  /** What the sweep schedule invokes: same code, no retries, no dead letter (see the constructor). */
  readonly sweepAlias: Alias;
  readonly alarms: RelayAlarms;
  readonly dashboard: RelayDashboard;

  constructor(scope: Construct, id: string, props: OneioRelayProps) {
    super(scope, id);
    const config = validateRelayProps(props);
    warnAboutUnauthenticatedSources(this, config.sources);
    const removalPolicy = config.removalPolicy;
    const serviceName = relayServiceName(config.environmentName);

    const relayTable = new RelayTable(this, 'Store', {
      removalPolicy,
      pointInTimeRecovery: config.pointInTimeRecovery ?? true,
      // A retained table is production data: guard it against a console click or a replacing deploy too.
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
    });
    this.table = relayTable.table;
    if (!(config.pointInTimeRecovery ?? true)) {
      Validations.of(this.table).acknowledge({
        id: 'AwsSolutions-DDB3',
        reason:
          `${config.environmentName} runs without PITR by its config (pointInTimeRecovery: false, meant for ` +
          'test environments): the table then holds a cached OAuth token, de-duplication records and outbox ' +
          'items of test traffic, all recreated or disposable.',
      });
    }

    const credentials = new RelaySecret(this, 'Credentials', {
      purpose: 'ONEiO endpoint credentials {"client_id","client_secret"}',
      ...(config.secretNames?.credentials !== undefined && {
        existingSecretName: config.secretNames.credentials,
      }),
      placeholderTemplate: { client_id: 'REPLACE_ME' },
      generateStringKey: 'client_secret',
      removalPolicy,
    });
    const signingSecrets = new RelaySecret(this, 'SigningSecrets', {
      purpose: 'inbound webhook signing secrets {"<source>": "<secret>"}',
      ...(config.secretNames?.signingSecrets !== undefined && {
        existingSecretName: config.secretNames.signingSecrets,
      }),
      // `_placeholder` can never be a source name: no source has a secret, so no signature verifies, until the
      // operator puts the real ones.
      placeholderTemplate: {},
      generateStringKey: '_placeholder',
      removalPolicy,
    });
    this.credentialsSecret = credentials.secret;
    this.signingSecretsSecret = signingSecrets.secret;

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    for (const id of ['AwsSolutions-SQS3', 'Serverless-SQSRedrivePolicy']) {
      Validations.of(this.deadLetterQueue).acknowledge({
        id,
        reason:
          "This queue is itself the dead-letter queue of the EventBridge targets and of the function's " +
          'asynchronous invocations; nothing consumes it automatically, an operator inspects and redrives it.',
      });
    }

    this.functionLogGroup = new LogGroup(this, 'FunctionLogs', {
      retention: config.logRetention,
      removalPolicy,
    });
    // An own role instead of the default one, which would attach AWSLambdaBasicExecutionRole (logs:* on every
    // log group of the account).
    this.role = new Role(this, 'FunctionRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `oneio-relay ${config.environmentName} function role`,
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The log group's Arn attribute ends in `:*`, which covers the log streams Lambda names at run time.
        resources: [this.functionLogGroup.logGroupArn],
      }),
    );
    relayTable.grantRelayAccess(this.role);
    credentials.grantGetValue(this.role);
    signingSecrets.grantGetValue(this.role);

    const environment: Record<EnvName, string> = {
      [ENV.tokenUrl]: config.oneio.tokenUrl,
      [ENV.receiverUrl]: config.oneio.receiverUrl,
      [ENV.credentialsSecretId]: credentials.secretId,
      [ENV.signingSecretsSecretId]: signingSecrets.secretId,
      [ENV.tableName]: this.table.tableName,
      [ENV.sources]: JSON.stringify(config.sources),
      [ENV.maxBodyBytes]: String(config.maxBodyBytes ?? DEFAULTS.maxBodyBytes),
      [ENV.dedupTtlSeconds]: String(config.dedupTtlSeconds ?? DEFAULTS.dedupTtlSeconds),
      [ENV.outboxMaxAgeSeconds]: String(config.outboxMaxAgeSeconds ?? DEFAULTS.outboxMaxAgeSeconds),
      [ENV.drainRatePerSecond]: String(config.oneio.drainRatePerSecond ?? DEFAULTS.drainRatePerSecond),
      [ENV.breakerThreshold]: String(config.oneio.breaker?.failureThreshold ?? DEFAULTS.breakerThreshold),
      [ENV.breakerCoolDownSeconds]: String(
        config.oneio.breaker?.coolDownSeconds ?? DEFAULTS.breakerCoolDownSeconds,
      ),
    };
    this.handler = new NodejsFunction(this, 'Function', {
      description: `oneio-relay ${config.environmentName}: webhooks and EventBridge events to ONEiO`,
      entry: RELAY_ENTRY,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: FUNCTION_MEMORY_MB,
      timeout: FUNCTION_TIMEOUT,
      role: this.role,
      logGroup: this.functionLogGroup,
      loggingFormat: LoggingFormat.JSON,
      ...(config.reservedConcurrency !== undefined && {
        reservedConcurrentExecutions: config.reservedConcurrency,
      }),
      environment: {
        ...environment,
        // The function's Logger and Metrics take their service name and namespace from these two only.
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: {
        minify: true,
        sourceMap: true,
        // Stack traces still map to file and line; leaving the sources out keeps the bundle small.
        sourcesContent: false,
        format: OutputFormat.CJS,
        // Ship the SDK version the tests ran against, not whatever the runtime carries this month.
        bundleAwsSDK: true,
        // Prefer the ES module builds: esbuild tree-shakes them, which took the bundle from 1164 to 949 KB and its
        // import on Node 24 from ~259 to ~192 ms (npm run bench, cold-start rows).
        mainFields: ['module', 'main'],
      },
      // Async invocations of $LATEST (the EventBridge rules): Lambda retries twice, then the event goes to the
      // dead-letter queue.
      retryAttempts: 2,
      maxEventAge: EVENT_MAX_AGE,
      onFailure: new SqsDestination(this.deadLetterQueue),
      // Old versions are not kept: only the sweep alias uses one, and it always points at the newest.
      currentVersionOptions: { removalPolicy: RemovalPolicy.DESTROY },
    });
    Validations.of(this.handler).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        "Failed asynchronous invocations of $LATEST go to the dead-letter queue through the function's on-failure " +
        'destination, which also records the error and the attempts; a DeadLetterConfig as well would queue ' +
        'every failed event twice.',
    });
    Validations.of(this.handler).acknowledge({
      id: 'Serverless-LambdaTracing',
      reason:
        'The function logs one JSON line per message with relay id, outcome, attempts and latency, and publishes ' +
        'metrics for every outcome; X-Ray would show little more without instrumenting the code and needs ' +
        'xray:Put* on every resource. API Gateway HTTP APIs cannot be traced at all.',
    });
    const webhookApi = new WebhookApi(this, 'Webhooks', {
      handler: this.handler,
      sources: config.sources,
      throttling: config.throttling,
      logRetention: config.logRetention,
      removalPolicy,
      ...(config.customDomain !== undefined && { customDomain: config.customDomain }),
    });
    this.api = webhookApi.api;
    this.accessLogGroup = webhookApi.accessLogGroup;
    this.webhookBaseUrl = webhookApi.webhookBaseUrl;
    if (webhookApi.domain !== undefined) this.webhookDomain = webhookApi.domain;

    // How the function learns a rule's ONEiO endpoint. The event must reach ONEiO whole and unchanged, so nothing
    // can be added to it: an input transformer or a constant target input would replace or wrap the event (and what
    // Lambda retries and dead-letters with it), and a map from event pattern to endpoint in the function would be a
    // second copy of the patterns that matching cannot reproduce exactly. The invocation's qualifier carries it
    // instead: the rules of endpoint `itsm` invoke the alias `oneio-endpoint-itsm`, which the function reads from
    // its context (`events/eventbridge.ts`). One alias per endpoint, whatever the number of its rules.
    const endpointAliases = new Map<string, Alias>();
    const eventTarget = (oneioEndpoint: string | undefined): IFunction => {
      if (oneioEndpoint === undefined) return this.handler;
      let alias = endpointAliases.get(oneioEndpoint);
      if (alias === undefined) {
        alias = new Alias(this, `EndpointAlias-${oneioEndpoint}`, {
          aliasName: `${ENDPOINT_ALIAS_PREFIX}${oneioEndpoint}`,
          version: this.handler.currentVersion as IVersion,
          description: `oneio-relay: what the event rules of ONEiO endpoint ${oneioEndpoint} invoke`,
          // The same asynchronous settings as $LATEST's: an event keeps its retries and its dead letter.
          retryAttempts: 2,
          maxEventAge: EVENT_MAX_AGE,
          onFailure: new SqsDestination(this.deadLetterQueue),
        });
        endpointAliases.set(oneioEndpoint, alias);
      }
      return alias as IFunction;
    };
    this.eventRules = (config.eventRules ?? []).map(
      (rule) =>
        new Rule(this, `Rule-${rule.id}`, {
          ...(rule.description !== undefined && { description: rule.description }),
          eventPattern: rule.eventPattern,
          targets: [
            new LambdaFunction(eventTarget(rule.oneioEndpoint), {
              deadLetterQueue: this.deadLetterQueue,
              // EventBridge only retries handing the event to Lambda's async queue, which fails rarely and
              // briefly; after that the event is kept in the dead-letter queue rather than retried for 24 h.
              retryAttempts: 8,
              maxEventAge: Duration.hours(2),
            }),
          ],
        }),
    );
    this.endpointAliases = endpointAliases;

    // Asynchronous settings belong to a qualifier, and $LATEST's (retries, on-failure queue) are the EventBridge
    // path's. A sweep is different: it carries no message (the items stay in the outbox), and the next one starts a
    // minute later, so a retry or a dead letter would only page an operator about an event there is nothing to do
    // with. An alias on the current version is a qualifier of its own that follows every deploy, with its own
    // configuration. (The casts: aws-cdk-lib declares `role?: IRole` on Version and Alias but `role: IRole |
    // undefined` on the interfaces they implement, which exactOptionalPropertyTypes tells apart.)
    this.sweepAlias = new Alias(this, 'SweepAlias', {
      aliasName: SWEEP_ALIAS_NAME,
      version: this.handler.currentVersion as IVersion,
      description: 'oneio-relay: what the outbox sweep schedule invokes (no retries, no dead letter)',
      retryAttempts: 0,
      maxEventAge: Duration.minutes(1),
    });
    Validations.of(this.sweepAlias).acknowledge({
      id: 'Serverless-LambdaAsyncFailureDestination',
      reason:
        'A sweep invocation carries no message: the items stay in the DynamoDB outbox and the next sweep, a ' +
        'minute later, takes them. A failure destination would only collect copies of the constant sweep event; a ' +
        'failing sweep raises FunctionErrors, one that stops running raises OutboxSweepStopped.',
    });
    Validations.of(this.handler).acknowledge({
      id: '@aws-cdk/aws-lambda:addPermissionsToVersionOrAlias',
      reason:
        'The webhook route and the EventBridge rules invoke the unqualified function ($LATEST) on purpose, with ' +
        'their permissions on it; only the sweep schedule and the rules of named ONEiO endpoints invoke aliases, ' +
        'with their permissions on those aliases.',
    });
    this.outboxSweep = new Rule(this, 'OutboxSweep', {
      description: 'oneio-relay: deliver due outbox items',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [
        new LambdaFunction(this.sweepAlias as IFunction, {
          event: RuleTargetInput.fromObject(SWEEP_EVENT),
          // A missed sweep is replaced by the next one a minute later, and the items stay in the outbox: no
          // retries, no dead letter.
          retryAttempts: 0,
          maxEventAge: Duration.minutes(1),
        }),
      ],
    });
    Validations.of(this.outboxSweep).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        'The schedule sends the same constant sweep event every minute and the next sweep does the work a missed ' +
        'one would have done; a dead-letter queue would only fill with copies of it. A sweep that stops running ' +
        'raises the OutboxSweepStopped alarm instead.',
    });

    this.alarms = new RelayAlarms(this, 'Alarms', {
      environmentName: config.environmentName,
      handler: this.handler,
      api: this.api,
      deadLetterQueue: this.deadLetterQueue,
      metricsNamespace: METRICS_NAMESPACE,
      serviceName,
      outboxAgeAlarmMinutes: config.outboxAgeAlarmMinutes ?? DEFAULT_OUTBOX_AGE_ALARM_MINUTES,
      breakerOpenAlarmMinutes: config.oneio.breaker?.openAlarmMinutes ?? DEFAULT_BREAKER_OPEN_ALARM_MINUTES,
      webhookUnauthorizedAlarmThreshold:
        config.webhookUnauthorizedAlarmThreshold ?? DEFAULT_WEBHOOK_UNAUTHORIZED_ALARM_THRESHOLD,
      ...(config.alarmEmail !== undefined && { alarmEmail: config.alarmEmail }),
      ...(config.alarmTopicArn !== undefined && { alarmTopicArn: config.alarmTopicArn }),
    });

    this.dashboard = new RelayDashboard(this, 'Dashboard', {
      dashboardName: `OneioRelay-${config.environmentName}`,
      handler: this.handler,
      api: this.api,
      metricsNamespace: METRICS_NAMESPACE,
      serviceName,
      alarms: this.alarms.all,
      ...(config.reservedConcurrency !== undefined && { reservedConcurrency: config.reservedConcurrency }),
    });
  }
}

/**
 * An `unauthenticated` source relays whatever anyone posts to its URL into ONEiO. It is allowed because some senders
 * cannot sign, but it must never go unnoticed: every synth and deploy of the stack prints this warning.
 */
function warnAboutUnauthenticatedSources(scope: Construct, sources: SourceDeclarations): void {
  for (const [name, source] of Object.entries(sources)) {
    if (source.scheme !== 'unauthenticated') continue;
    const restriction = source.allowCidrs ? ` (restricted to ${source.allowCidrs.join(', ')})` : '';
    Annotations.of(scope).addWarningV2(
      'oneio-relay:unauthenticated-source',
      `Webhook source "${name}" is unauthenticated${restriction}: anyone who knows its URL can send messages to ONEiO`,
    );
  }
}

import {
  Annotations,
  CfnOutput,
  CfnResource,
  RemovalPolicy,
  Stack,
  type StackProps,
  Tags,
} from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';
import type { RelayConfig } from './config-schema';
import { OneioRelay } from './oneio-relay';

export const PROJECT_TAG = 'oneio-relay';

/** `OneioRelay-qa`, `OneioRelay-prod`: the names operators pass to `cdk deploy` / `cdk destroy`. */
export function relayStackId(environmentName: string): string {
  return `OneioRelay-${environmentName}`;
}

/**
 * Logical ids of the resources that hold state or that senders know by address, as the first deployments got them.
 * CloudFormation replaces a resource whose logical id changes, and CDK derives the id from the construct path, so
 * renaming or moving a construct would otherwise orphan the outbox table (retained) and start an empty one,
 * recreate both secrets with placeholders (an outage until an operator puts the values again), give the API a new
 * id (every sender's URL changes) and drop the alarm topic's subscriptions. Pinned here, a refactor cannot.
 */
export const STATEFUL_LOGICAL_IDS = {
  table: 'RelayStoreTable5DF851D8',
  credentialsSecret: 'RelayCredentialsSecretBDCFB102',
  signingSecretsSecret: 'RelaySigningSecretsSecret54717058',
  api: 'RelayWebhooksApi956EE248',
  deadLetterQueue: 'RelayDeadLetterQueue343F1AE9',
  alarmTopic: 'RelayAlarmsTopicB3F9414A',
} as const;

/** Values of the shipped config that only stand in for an operator's own; every synth says so until they are set. */
const PLACEHOLDERS: ReadonlyArray<{ field: keyof RelayConfig; matches: (value: unknown) => boolean }> = [
  // The account id AWS's documentation uses.
  { field: 'account', matches: (value) => value === '123456789012' },
  // Domains reserved for documentation (RFC 2606): nobody receives mail there.
  {
    field: 'alarmEmail',
    matches: (value) =>
      typeof value === 'string' && /@(.+\.)?(example\.(com|net|org)|[^@]+\.example)$/i.test(value),
  },
];

/** One environment's whole deployment. The outputs are what an operator needs next (and what the CLI reads). */
export class OneioRelayStack extends Stack {
  readonly relay: OneioRelay;

  constructor(scope: Construct, config: RelayConfig, props: StackProps = {}) {
    super(scope, relayStackId(config.environmentName), {
      description: `oneio-relay (${config.environmentName}): webhooks and EventBridge events relayed to ONEiO`,
      // An environment whose data outlives the stack must not lose its stack to one `cdk destroy` either.
      terminationProtection: config.removalPolicy === RemovalPolicy.RETAIN,
      ...props,
    });
    Tags.of(this).add('project', PROJECT_TAG);
    Tags.of(this).add('environment', config.environmentName);

    this.relay = new OneioRelay(this, 'Relay', config);
    pinLogicalId(this.relay.table, STATEFUL_LOGICAL_IDS.table);
    pinLogicalId(this.relay.credentialsSecret, STATEFUL_LOGICAL_IDS.credentialsSecret);
    pinLogicalId(this.relay.signingSecretsSecret, STATEFUL_LOGICAL_IDS.signingSecretsSecret);
    pinLogicalId(this.relay.api, STATEFUL_LOGICAL_IDS.api);
    pinLogicalId(this.relay.deadLetterQueue, STATEFUL_LOGICAL_IDS.deadLetterQueue);
    pinLogicalId(this.relay.alarms.topic, STATEFUL_LOGICAL_IDS.alarmTopic);

    for (const { field, matches } of PLACEHOLDERS) {
      if (!matches(config[field])) continue;
      Annotations.of(this).addWarningV2(
        'oneio-relay:placeholder-setting',
        `${config.environmentName}.${field} is the placeholder ${JSON.stringify(config[field])}: put ` +
          `${config.environmentName}'s own value in infra/config.ts before deploying ${this.stackName}`,
      );
    }

    const outputs: Record<string, [value: string, description: string]> = {
      WebhookBaseUrl: [
        this.relay.webhookBaseUrl,
        'Give each SaaS sender this URL followed by its source name, e.g. …/webhooks/github',
      ],
      FunctionName: [this.relay.handler.functionName, 'The relay function (logs: its log group)'],
      TableName: [this.relay.table.tableName, 'DynamoDB table with token, de-duplication and outbox items'],
      CredentialsSecretName: [
        this.relay.credentialsSecret.secretName,
        'put-secret-value {"client_id":"…","client_secret":"…"} here',
      ],
      SigningSecretsSecretName: [
        this.relay.signingSecretsSecret.secretName,
        'put-secret-value {"<source>":"<signing secret>"} here',
      ],
      DeadLetterQueueUrl: [
        this.relay.deadLetterQueue.queueUrl,
        'EventBridge events and async invocations the relay could not process',
      ],
      AlarmTopicArn: [this.relay.alarms.topic.topicArn, 'Subscribe on-call here to receive the alarms'],
      DashboardUrl: [this.relay.dashboard.consoleUrl, "The environment's CloudWatch dashboard"],
    };
    if (this.relay.webhookDomain !== undefined) {
      outputs.WebhookDomainTarget = [
        this.relay.webhookDomain.regionalDomainName,
        `Point ${config.customDomain?.domainName} here (CNAME, or an alias record)`,
      ];
    }
    for (const [id, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, id, { value, description });
    }
  }
}

/** Gives the CloudFormation resource of `construct` a fixed logical id; an imported resource has none to pin. */
function pinLogicalId(construct: IConstruct, logicalId: string): void {
  const resource = construct.node.defaultChild;
  if (resource instanceof CfnResource) resource.overrideLogicalId(logicalId);
}

import { CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { RelayConfig } from './config-schema';
import { OneioRelay } from './oneio-relay';

export const PROJECT_TAG = 'oneio-relay';

/** `OneioRelay-qa`, `OneioRelay-prod`: the names operators pass to `cdk deploy` / `cdk destroy`. */
export function relayStackId(environmentName: string): string {
  return `OneioRelay-${environmentName}`;
}

/** One environment's whole deployment. The outputs are what an operator needs next (and what the CLI reads). */
export class OneioRelayStack extends Stack {
  readonly relay: OneioRelay;

  constructor(scope: Construct, config: RelayConfig, props: StackProps = {}) {
    super(scope, relayStackId(config.environmentName), {
      description: `oneio-relay (${config.environmentName}): webhooks and EventBridge events relayed to ONEiO`,
      ...props,
    });
    Tags.of(this).add('project', PROJECT_TAG);
    Tags.of(this).add('environment', config.environmentName);

    this.relay = new OneioRelay(this, 'Relay', config);

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
    };
    for (const [id, [value, description]] of Object.entries(outputs)) {
      new CfnOutput(this, id, { value, description });
    }
  }
}

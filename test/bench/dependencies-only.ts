/**
 * The cold-start baseline: exactly the names the relay imports from its packages, and none of its own code.
 * Bundled like the function, it is what any relay built on these packages would load at the least.
 */
export { Logger } from '@aws-lambda-powertools/logger';
export { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
export { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
export { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
export {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
export { Agent, request } from 'undici';

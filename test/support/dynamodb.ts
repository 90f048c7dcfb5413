import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { DYNAMODB_CLIENT_CONFIG } from '../../functions/relay/app';
import { createLocalDynamoDbClient, createRelayTable } from '../../infra/local/dynamodb-local';

/**
 * Creates a relay table with a unique name in the run's DynamoDB Local, so test files running in parallel never
 * see each other's items. Call it once per file (e.g. in `beforeAll`); the whole database is in memory and goes
 * away with the run.
 */
export async function createTestTable(): Promise<{ client: DynamoDBClient; tableName: string }> {
  const client = createLocalDynamoDbClient(inject('dynamodbEndpoint'));
  const tableName = `relay-test-${randomUUID()}`;
  await createRelayTable(client, tableName);
  return { client, tableName };
}

/**
 * A document client configured as the relay's (`DYNAMODB_CLIENT_CONFIG`: one retry, 1 s timeouts) but reaching
 * DynamoDB Local through `endpoint`, typically a fault proxy: a write the proxy lets DynamoDB apply and then resets
 * is retried by the SDK exactly as in Lambda.
 */
export function relayDocumentClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      ...DYNAMODB_CLIENT_CONFIG,
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  );
}

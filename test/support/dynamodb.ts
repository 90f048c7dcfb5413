import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
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
 * A document client with the relay's own DynamoDB settings (`createClients` in functions/relay/app.ts: two
 * attempts, one-second timeouts) at `endpoint`, e.g. a fault proxy in front of DynamoDB Local.
 */
export function relayDynamoDbClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_000, throwOnRequestTimeout: true },
    }),
  );
}

import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
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

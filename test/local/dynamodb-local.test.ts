import { spawnSync } from 'node:child_process';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE } from '../../functions/relay/contract';
import {
  createLocalDynamoDbClient,
  createRelayTable,
  startDynamoDbLocal,
} from '../../infra/local/dynamodb-local';
import { createTestTable } from '../support/dynamodb';

/** Whether a DynamoDB Local Java process serving `port` is still alive. */
function javaRunsOnPort(port: number): boolean {
  const result = spawnSync('pgrep', ['-f', `DynamoDBLocal\\.jar .*-port ${port}( |$)`]);
  if (result.error !== undefined) {
    throw result.error;
  }
  return result.status === 0;
}

describe('createRelayTable', () => {
  let client: DynamoDBClient;
  let tableName: string;

  beforeAll(async () => {
    ({ client, tableName } = await createTestTable());
  });

  it('keys the table on the contract partition key, a string, billed on demand', async () => {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));

    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([{ AttributeName: TABLE.partitionKey, KeyType: 'HASH' }]);
    const indexKeys = TABLE.globalIndexes.flatMap((index) => [
      index.partitionKey,
      ...(index.sortKey ? [index.sortKey] : []),
    ]);
    expect(Table?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
        ...indexKeys.map((key) => ({ AttributeName: key.name, AttributeType: key.type })),
      ]),
    );
    expect(Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(
      TABLE.globalIndexes.map((index) => index.name),
    );
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('enables TTL on the contract TTL attribute', async () => {
    const { TimeToLiveDescription } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );

    expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: TABLE.ttlAttribute });
  });

  it('stores an item and reads it back by its partition key', async () => {
    // Prepare
    const item = { [TABLE.partitionKey]: { S: 'token#oneio' }, [TABLE.ttlAttribute]: { N: '1900000000' } };

    // Act
    await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
    const { Item } = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { pk: { S: 'token#oneio' } }, ConsistentRead: true }),
    );

    // Assess
    expect(Item).toEqual(item);
  });

  it('gives every caller its own table, so parallel test files never share items', async () => {
    // Prepare
    const other = await createTestTable();
    await client.send(new PutItemCommand({ TableName: tableName, Item: { pk: { S: 'only-in-first' } } }));

    // Act
    const { Item } = await other.client.send(
      new GetItemCommand({
        TableName: other.tableName,
        Key: { pk: { S: 'only-in-first' } },
        ConsistentRead: true,
      }),
    );

    // Assess
    expect(other.tableName).not.toBe(tableName);
    expect(Item).toBeUndefined();
  });

  it('builds the global indexes a table definition declares', async () => {
    // Prepare
    const definition = {
      partitionKey: 'pk',
      ttlAttribute: 'ttl',
      globalIndexes: [
        { name: 'byDue', partitionKey: { name: 'kind', type: 'S' }, sortKey: { name: 'due', type: 'N' } },
      ],
    } as const;
    const indexedTable = `relay-indexed-${Date.now()}`;

    // Act
    await createRelayTable(client, indexedTable, definition);
    await client.send(
      new PutItemCommand({
        TableName: indexedTable,
        Item: { pk: { S: 'outbox#1' }, kind: { S: 'outbox' }, due: { N: '42' } },
      }),
    );
    const { Items } = await client.send(
      new QueryCommand({
        TableName: indexedTable,
        IndexName: 'byDue',
        KeyConditionExpression: 'kind = :kind AND due <= :now',
        ExpressionAttributeValues: { ':kind': { S: 'outbox' }, ':now': { N: '100' } },
      }),
    );

    // Assess
    expect(Items?.map((item) => item.pk?.S)).toEqual(['outbox#1']);
  });

  it('refuses a definition that gives one key attribute two types', async () => {
    const definition = {
      partitionKey: 'pk',
      ttlAttribute: 'ttl',
      globalIndexes: [{ name: 'clash', partitionKey: { name: 'pk', type: 'N' } }],
    } as const;

    await expect(createRelayTable(client, `relay-clash-${Date.now()}`, definition)).rejects.toThrow(
      /"pk" is declared both as S and as N/,
    );
  });
});

describe('startDynamoDbLocal', () => {
  it('answers on a free port and leaves no Java process behind once stopped', async () => {
    // Prepare
    const dynamodb = await startDynamoDbLocal();
    const client = createLocalDynamoDbClient(dynamodb.endpoint);

    try {
      // Act
      const { TableNames } = await client.send(new ListTablesCommand({}));

      // Assess
      expect(dynamodb.endpoint).toBe(`http://127.0.0.1:${dynamodb.port}`);
      expect(TableNames).toEqual([]);
      expect(javaRunsOnPort(dynamodb.port)).toBe(true);
    } finally {
      client.destroy();
      await dynamodb.stop();
    }
    expect(javaRunsOnPort(dynamodb.port)).toBe(false);
    await expect(dynamodb.stop()).resolves.toBeUndefined();
    // A second Java beside the run's own: starting it takes several seconds on a busy machine (readiness waits 30 s).
  }, 60_000);

  it('names Java when no java command can be found', async () => {
    // Prepare
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';

    try {
      // Act / Assess
      await expect(startDynamoDbLocal()).rejects.toThrow(/needs Java 17 .* no `java` command was found/);
    } finally {
      process.env.PATH = path;
    }
  });
});

import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { TABLE } from '../../functions/relay/contract';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import { InMemoryOutbox } from '../../functions/relay/io/memory/outbox';
import type { Outbox, OutboxItem } from '../../functions/relay/ports/outbox';
import { createTestTable } from '../support/dynamodb';

/**
 * An outbox item keeps everything ONEiO is to receive besides the body, so a retry or a redrive sends what the first
 * attempt sent. Both outboxes are held to it; the DynamoDB one against DynamoDB Local.
 */

const NOW = 1_700_000_000_000;

function item(relayId: string, overrides: Partial<OutboxItem> = {}): OutboxItem {
  return {
    relayId,
    source: 'github',
    deliveryId: `d-${relayId}`,
    body: '{"n":12345678901234567890123,"b":1,"a":2}',
    receivedAt: NOW - 1_250,
    state: 'due',
    attempts: 3,
    retries: 0,
    firstSeenAt: NOW,
    dueAt: NOW + 60_000,
    lastError: 'ONEiO receiver answered 503',
    ...overrides,
  };
}

const FULL: Partial<OutboxItem> = {
  forwardedHeaders: { 'x-github-event': 'issues', 'x-github-hook-id': '292430182' },
  query: 'issue.key=ABC-1&project.key=OPS&note=a%20b',
  oneioEndpoint: 'itsm',
  envelope: true,
};

describe.each([
  ['DynamoDbOutbox (DynamoDB Local)', 'dynamodb'],
  ['InMemoryOutbox', 'memory'],
] as const)('%s: the message fields of an item', (_name, kind) => {
  let outbox: Outbox;

  beforeEach(async () => {
    if (kind === 'memory') {
      outbox = new InMemoryOutbox();
      return;
    }
    const { client, tableName } = await createTestTable();
    outbox = new DynamoDbOutbox(DynamoDBDocumentClient.from(client), tableName);
  });

  it('keeps the forwarded headers, query, received-at, ONEiO endpoint and envelope', async () => {
    // Act
    await outbox.add(item('r1', FULL));

    // Assess
    expect(await outbox.get('r1')).toEqual(item('r1', FULL));
  });

  it('keeps them through a claim, a reschedule, a park and a redrive', async () => {
    // Prepare
    await outbox.add(item('r1', FULL));
    await outbox.claim(item('r1', FULL), NOW + 120_000, 'sweep-1');
    await outbox.reschedule('r1', 'sweep-1', {
      attempts: 4,
      retries: 1,
      dueAt: NOW + 180_000,
      lastError: 'e',
    });
    const [due] = await outbox.due(NOW + 180_000, 10);
    if (due === undefined) throw new Error('the item should be due');
    await outbox.claim(due, NOW + 300_000, 'sweep-2');
    await outbox.park('r1', 'sweep-2', { attempts: 5, parkedAt: NOW + 200_000, lastError: 'refused' });

    // Act: an operator redrives it a day later
    await outbox.redrive('r1', NOW + 86_400_000);

    // Assess: a fresh retry window, the same message
    const [redriven] = await outbox.due(NOW + 86_400_000, 10);
    expect(redriven).toMatchObject({ relayId: 'r1', firstSeenAt: NOW + 86_400_000 });
    expect(await outbox.get('r1')).toMatchObject({
      ...FULL,
      receivedAt: NOW - 1_250,
      firstSeenAt: NOW + 86_400_000,
    });
  });

  it('leaves them out of an item that has none', async () => {
    // Act
    await outbox.add(item('plain'));

    // Assess
    const stored = await outbox.get('plain');
    expect(stored).toEqual(item('plain'));
    for (const field of ['forwardedHeaders', 'query', 'oneioEndpoint', 'envelope']) {
      expect(stored).not.toHaveProperty(field);
    }
  });
});

describe('DynamoDbOutbox: items written before the message fields existed', () => {
  it('reads one as received when it was first seen, sent as before: no headers, no query, the default pair', async () => {
    // Prepare: an item as the previous version of the relay wrote it
    const { client, tableName } = await createTestTable();
    const documents = DynamoDBDocumentClient.from(client);
    const outbox = new DynamoDbOutbox(documents, tableName);
    await outbox.add(item('old', FULL));
    const { Item: written } = await documents.send(
      new GetCommand({ TableName: tableName, Key: { [TABLE.partitionKey]: 'outbox#old' } }),
    );
    const { receivedAt, forwardedHeaders, query, oneioEndpoint, envelope, ...before } = written ?? {};
    await documents.send(
      new DeleteCommand({ TableName: tableName, Key: { [TABLE.partitionKey]: 'outbox#old' } }),
    );
    await documents.send(new PutCommand({ TableName: tableName, Item: before }));

    // Act
    const read = await outbox.get('old');

    // Assess
    expect([receivedAt, forwardedHeaders, query, oneioEndpoint, envelope]).not.toContain(undefined);
    expect(read).toEqual(item('old', { receivedAt: NOW }));
  });
});

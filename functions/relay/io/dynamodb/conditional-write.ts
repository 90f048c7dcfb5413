import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  PutCommand,
  type PutCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

/**
 * Attribute every conditional put and update stamps with a value unique to that one write. It is how a write
 * recognises its own earlier success (see {@link conditionalWrite}); nothing else reads it.
 */
export const WRITE_ID_ATTRIBUTE = 'writeId';

/** A conditional write, as the input of the document client's command. */
export type ConditionalWriteInput =
  | { readonly put: PutCommandInput }
  | { readonly update: UpdateCommandInput }
  | { readonly delete: DeleteCommandInput };

export type WriteOutcome =
  /**
   * The write took effect: now, or in an earlier attempt whose answer was lost. `item`: the item as written, when an
   * update asked for it with `ReturnValues: 'ALL_NEW'` (after a lost answer, the item as DynamoDB has it now).
   */
  | { readonly applied: true; readonly item?: Readonly<Record<string, unknown>> }
  /**
   * The condition did not hold. `current` is the item as DynamoDB had it (undefined when there is none), so the
   * caller can tell who holds it without reading it again. For a delete, an absent item may be our own earlier
   * success: deleting is idempotent, and the caller decides what "already gone" means.
   */
  | { readonly applied: false; readonly current: Readonly<Record<string, unknown>> | undefined };

/**
 * Runs a conditional put, update or delete and tells whether it took effect.
 *
 * Why not just catch `ConditionalCheckFailedException`: the SDK retries a request that timed out or whose
 * connection was reset, and the first attempt may have been applied. The retry then fails its own condition (the
 * claim is already taken — by us), and a naive caller reads its own success as somebody else's: a webhook refused
 * as a duplicate of itself, a queued message reported as not kept. So every put and update carries a fresh
 * {@link WRITE_ID_ATTRIBUTE}, the same in every SDK attempt of this write (they resend one serialised request), and a
 * failed condition returns the current item (`ReturnValuesOnConditionCheckFailure: ALL_OLD`): when it carries our
 * write id, it was our write.
 *
 * Any other error (network, throttling after the SDK's retries, a missing table) propagates.
 */
export async function conditionalWrite(
  client: DynamoDBDocumentClient,
  input: ConditionalWriteInput,
): Promise<WriteOutcome> {
  const writeId = randomUUID();
  try {
    const written = await send(client, input, writeId);
    return written === undefined ? { applied: true } : { applied: true, item: written };
  } catch (error) {
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
    const current = error.Item ? unmarshall(error.Item) : undefined;
    if (current !== undefined && current[WRITE_ID_ATTRIBUTE] === writeId) {
      return 'update' in input && input.update.ReturnValues === 'ALL_NEW'
        ? { applied: true, item: current }
        : { applied: true };
    }
    return { applied: false, current };
  }
}

const WRITE_ID_NAME = '#relayWriteId';
const WRITE_ID_VALUE = ':relayWriteId';

/**
 * A condition for an update that is not idempotent (`ADD n :one`): it holds unless this very write was already
 * applied, so the SDK's resend of a write whose answer was lost counts once and is reported as applied. (An update
 * by someone else in between replaces the write id; the resend then counts again, an over-count by one.)
 */
export const NOT_APPLIED_YET = `(attribute_not_exists(${WRITE_ID_NAME}) OR ${WRITE_ID_NAME} <> ${WRITE_ID_VALUE})`;
/** The `SET` clause of an update expression (clauses may come in any order; keywords are case-insensitive). */
const SET_CLAUSE = /(^|\s)SET\s+/i;

/** Sends the write; resolves with the item an update wrote when it asked for it (`ReturnValues: 'ALL_NEW'`). */
async function send(
  client: DynamoDBDocumentClient,
  input: ConditionalWriteInput,
  writeId: string,
): Promise<Record<string, unknown> | undefined> {
  const returnOld = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } as const;
  if ('put' in input) {
    await client.send(
      new PutCommand({
        ...input.put,
        ...returnOld,
        Item: { ...input.put.Item, [WRITE_ID_ATTRIBUTE]: writeId },
      }),
    );
    return undefined;
  }
  if ('update' in input) {
    const { UpdateExpression = '' } = input.update;
    const assignment = `${WRITE_ID_NAME} = ${WRITE_ID_VALUE}`;
    const { Attributes } = await client.send(
      new UpdateCommand({
        ...input.update,
        ...returnOld,
        UpdateExpression: SET_CLAUSE.test(UpdateExpression)
          ? UpdateExpression.replace(SET_CLAUSE, (clause) => `${clause}${assignment}, `)
          : `SET ${assignment} ${UpdateExpression}`,
        ExpressionAttributeNames: {
          ...input.update.ExpressionAttributeNames,
          [WRITE_ID_NAME]: WRITE_ID_ATTRIBUTE,
        },
        ExpressionAttributeValues: { ...input.update.ExpressionAttributeValues, [WRITE_ID_VALUE]: writeId },
      }),
    );
    return input.update.ReturnValues === 'ALL_NEW' ? Attributes : undefined;
  }
  await client.send(new DeleteCommand({ ...input.delete, ...returnOld }));
  return undefined;
}

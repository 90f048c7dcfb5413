import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** The deployed function's timeout (infra/oneio-relay.ts, FUNCTION_TIMEOUT): the handler sizes its budgets on it. */
export const FUNCTION_TIMEOUT_MS = 25_000;

/** A Lambda context for one invocation; the remaining time counts down from the timeout, as in Lambda. */
export function lambdaContext(functionName: string, timeoutMs = FUNCTION_TIMEOUT_MS): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'sandbox',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

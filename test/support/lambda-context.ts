import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/**
 * A Lambda context whose remaining time counts down from `timeoutMs`, like the real one. `qualifier`: the alias the
 * function was invoked through, as Lambda puts it at the end of `invokedFunctionArn`.
 */
export function lambdaContext(timeoutMs = 25_000, qualifier?: string): Context {
  const deadline = Date.now() + timeoutMs;
  const arn = 'arn:aws:lambda:us-east-1:123456789012:function:oneio-relay-test';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'oneio-relay-test',
    functionVersion: qualifier === undefined ? '$LATEST' : '1',
    invokedFunctionArn: qualifier === undefined ? arn : `${arn}:${qualifier}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/oneio-relay-test',
    logStreamName: 'test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

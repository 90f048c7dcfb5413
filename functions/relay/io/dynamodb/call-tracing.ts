import { tracingChannel } from 'node:diagnostics_channel';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Node's tracing channel for the relay's DynamoDB calls: `tracing:oneio-relay:dynamodb:start` when a call begins,
 * `…:asyncEnd` (or `…:error`) when it settles, with the same context object. A profiler, an APM agent or the bench
 * subscribes from outside the bundle to see how long each whole SDK call took (marshalling, signing, retries, the
 * request, parsing); nothing is published, and nothing is spent, while nobody listens.
 */
export const DYNAMODB_CALLS = tracingChannel<object, { readonly operation: string }>('oneio-relay:dynamodb');

/** Publishes every call of `client` (the document client and the client under it share one middleware stack). */
export function traceCalls(client: DynamoDBDocumentClient): DynamoDBDocumentClient {
  client.middlewareStack.add(
    (next, context) => (args) =>
      DYNAMODB_CALLS.hasSubscribers
        ? DYNAMODB_CALLS.tracePromise(() => next(args), { operation: String(context.commandName ?? '') })
        : next(args),
    { step: 'initialize', priority: 'high', name: 'relayCallTracing' },
  );
  return client;
}

import { tracingChannel } from 'node:diagnostics_channel';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Node's tracing channel for the relay's DynamoDB calls: `tracing:oneio-relay:dynamodb:start` when a call begins,
 * `…:asyncEnd` (or `…:error`) when it settles, with the same context object. A profiler, an APM agent or the bench
 * subscribes from outside the bundle to see how long each whole SDK call took (building its middleware stack,
 * marshalling, signing, retries, the request, parsing); nothing is published, and nothing is spent, while nobody
 * listens.
 */
export const DYNAMODB_CALLS = tracingChannel<object, { readonly command: string }>('oneio-relay:dynamodb');

/** Publishes every `send` of `client` on {@link DYNAMODB_CALLS}. */
export function traceCalls(client: DynamoDBDocumentClient): DynamoDBDocumentClient {
  const send = client.send.bind(client) as (command: object, ...rest: unknown[]) => Promise<unknown>;
  // The SDK types `send` with one overload per command; the wrapper passes everything through unchanged.
  const traced = (command: object, ...rest: unknown[]): Promise<unknown> =>
    DYNAMODB_CALLS.hasSubscribers
      ? DYNAMODB_CALLS.tracePromise(() => send(command, ...rest), { command: command.constructor.name })
      : send(command, ...rest);
  client.send = traced as typeof client.send;
  return client;
}

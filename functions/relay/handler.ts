import { createClients, createRelayHandler } from './app';
import { readConfig } from './config';

/**
 * Lambda entry point for API Gateway webhooks and EventBridge events. Configuration is read and clients are created
 * once per execution environment, at cold start: a missing variable fails the init, naming the variable.
 */
export const handler = createRelayHandler(readConfig(process.env), createClients());

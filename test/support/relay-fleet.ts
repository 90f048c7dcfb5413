import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { vi } from 'vitest';
import type { RelayHandler } from '../../functions/relay/app';
import { ENV } from '../../functions/relay/contract';
import { type OneioEmulator, startOneioEmulator } from '../../infra/local/oneio-emulator';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../../infra/local/secrets-manager-emulator';
import { captureOutput } from './captured-output';
import { githubWebhook } from './webhook-event';

export const CLIENT_ID = 'relay-client';
/** Holds every character form encoding must get right; tests assert it never reaches a log line. */
export const CLIENT_SECRET = 'p&ss=w+rd %é/secret-VALUE-7f3a';
export const GITHUB_SIGNING_SECRET = 'gh-signing-secret-9c1d';
/** The fleet's ONEiO credentials secret. */
export const CREDENTIALS_SECRET_ID = 'oneio-relay/test/oneio';

/** A webhook from the fleet's `github` source, correctly signed. */
export function githubWebhookFor(body: string): APIGatewayProxyEventV2 {
  return githubWebhook(body, GITHUB_SIGNING_SECRET);
}

export interface Fleet {
  readonly oneio: OneioEmulator;
  readonly secrets: SecretsManagerEmulator;
  /** Everything the relay wrote to stdout/stderr since the fleet started. */
  logs(): string;
  /**
   * A new execution environment: the handler module loaded afresh (its own module instance, clients, token memory
   * and keep-alive agent), configured through environment variables exactly as in Lambda.
   */
  coldStart(): Promise<RelayHandler>;
  /** Stops the emulators and fails if any secret or issued token reached the logs. */
  close(): Promise<void>;
}

/**
 * The relay as deployed, minus AWS: DynamoDB Local (the run's, or `dynamodbEndpoint`), a Secrets Manager emulator
 * speaking the AWS JSON protocol and a ONEiO emulator, all on loopback sockets. The real SDK clients and undici are
 * pointed at them only through the standard `AWS_ENDPOINT_URL_*` variables.
 */
export async function startFleet(options: {
  dynamodbEndpoint: string;
  tableName: string;
  tokenLifetimeSeconds?: number;
  /** Extra or replaced environment variables of the function (a secret id that does not exist, say). */
  env?: Readonly<Record<string, string>>;
  /**
   * Named ONEiO endpoints: each pair is accepted by the ONEiO emulator and stored under `endpoints.<name>` in the
   * credentials secret.
   */
  endpoints?: Readonly<Record<string, { readonly clientId: string; readonly clientSecret: string }>>;
}): Promise<Fleet> {
  const endpoints = options.endpoints ?? {};
  const oneio = await startOneioEmulator({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    clients: Object.values(endpoints),
    ...(options.tokenLifetimeSeconds !== undefined && { tokenLifetimeSeconds: options.tokenLifetimeSeconds }),
  });
  const secrets = await startSecretsManagerEmulator({
    secrets: {
      [CREDENTIALS_SECRET_ID]: JSON.stringify({
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        note: 'extra keys are ignored',
        ...(Object.keys(endpoints).length > 0 && {
          endpoints: Object.fromEntries(
            Object.entries(endpoints).map(([name, pair]) => [
              name,
              { client_id: pair.clientId, client_secret: pair.clientSecret },
            ]),
          ),
        }),
      }),
      'oneio-relay/test/signing': JSON.stringify({ github: GITHUB_SIGNING_SECRET }),
    },
  });
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: options.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    POWERTOOLS_SERVICE_NAME: 'oneio-relay-test',
    POWERTOOLS_METRICS_NAMESPACE: 'OneioRelayTest',
    [ENV.tokenUrl]: oneio.tokenUrl,
    [ENV.receiverUrl]: oneio.receiverUrl,
    [ENV.credentialsSecretId]: CREDENTIALS_SECRET_ID,
    [ENV.signingSecretsSecretId]: 'oneio-relay/test/signing',
    [ENV.tableName]: options.tableName,
    [ENV.sources]: JSON.stringify({ github: { scheme: 'github' }, demo: { scheme: 'unauthenticated' } }),
    ...options.env,
  };
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const output = captureOutput();

  return {
    oneio,
    secrets,
    async coldStart() {
      Object.assign(process.env, env);
      vi.resetModules();
      const module = await import('../../functions/relay/handler.ts');
      return module.handler;
    },
    logs: () => output.text(),
    async close() {
      output.restore();
      await Promise.all([oneio.close(), secrets.close()]);
      const leaked = secretsIn(output.text(), [
        CLIENT_SECRET,
        encodeURIComponent(CLIENT_SECRET),
        ...Object.values(endpoints).map((pair) => pair.clientSecret),
        GITHUB_SIGNING_SECRET,
        ...oneio.messages.map((m) => m.accessToken),
      ]);
      if (leaked > 0)
        throw new Error(`${leaked} secret(s) or access token(s) appeared in the relay's log output`);
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    },
  };
}

/** `count` execution environments started one after the other, each its own module instance. */
export async function coldStartMany(fleet: Fleet, count: number): Promise<RelayHandler[]> {
  const handlers: RelayHandler[] = [];
  for (let i = 0; i < count; i++) handlers.push(await fleet.coldStart());
  return handlers;
}

/** How many of `secrets` occur in `text` (the count only: the secrets themselves must not be printed). */
function secretsIn(text: string, secrets: readonly string[]): number {
  return new Set(secrets).size === 0
    ? 0
    : [...new Set(secrets)].filter((secret) => text.includes(secret)).length;
}

import { environments } from '../config';
import type { RelayConfig } from '../config-schema';
import { usageError } from './cli-error';

/** The environment named by `--env`, from infra/config.ts. */
export function resolveEnvironment(name: string | undefined, command: string): RelayConfig {
  const names = environments.map((environment) => environment.environmentName);
  if (name === undefined) throw usageError(`Missing --env (${names.join(' or ')})`, command);
  const config = environments.find((environment) => environment.environmentName === name);
  if (config === undefined)
    throw usageError(`Unknown environment "${name}": use ${names.join(' or ')}`, command);
  return config;
}

/**
 * `OneioRelay-<env>`, the stack infra/oneio-relay-stack.ts deploys (`relayStackId`). Not imported from there: that
 * module loads the CDK constructs, seconds on every CLI run. test/cli/stack-outputs.test.ts pins that both agree.
 */
export function relayStackName(environmentName: string): string {
  return `OneioRelay-${environmentName}`;
}

/**
 * Metric namespace and `service` dimension of an environment's relay metrics, as infra/oneio-relay.ts sets them
 * (METRICS_NAMESPACE, relayServiceName); repeated here for the same reason as the stack name, and pinned the same way
 * (test/cli/status.test.ts).
 */
export const RELAY_METRICS_NAMESPACE = 'OneioRelay';

export function relayServiceName(environmentName: string): string {
  return `oneio-relay-${environmentName}`;
}

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { RelayConfig } from '../../infra/config-schema';
import type { OneioRelayStack } from '../../infra/oneio-relay-stack';
import { addRelayStacks } from '../../infra/relay-app';

/** The feature flags `cdk synth` runs with, so the tests see the template the CLI deploys. */
export const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

export interface SynthesizedRelay {
  readonly app: App;
  readonly stack: OneioRelayStack;
  readonly template: Template;
  /** Resolves a token (an ARN, a name) to the CloudFormation expression it becomes in the template. */
  readonly resolve: (value: unknown) => unknown;
}

/**
 * Builds the real app (cdk-nag included: a finding makes the synth throw) with bundling skipped, which takes
 * the synth from seconds to milliseconds.
 */
export function synthRelayApp(configs?: readonly RelayConfig[]): SynthesizedRelay[] {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stacks = addRelayStacks(app, configs);
  return stacks.map((stack) => ({
    app,
    stack,
    template: Template.fromStack(stack),
    resolve: (value: unknown) => Stack.of(stack).resolve(value),
  }));
}

/** The one resource of `type` in the template, failing when there are zero or several. */
export function onlyResource(template: Template, type: string): { Properties: Record<string, unknown> } {
  const found = Object.values(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0] as { Properties: Record<string, unknown> };
}

import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { environments } from './config';
import { type RelayConfig, validateConfig } from './config-schema';
import { OneioRelayStack } from './oneio-relay-stack';

/**
 * Adds one stack per environment and the cdk-nag AwsSolutions and Serverless checks to `app`. Every environment is
 * validated before any stack is built, so a mistake in PROD's config fails a QA deploy as well.
 */
export function addRelayStacks(app: App, configs: readonly RelayConfig[] = environments): OneioRelayStack[] {
  const validated = configs.map((config) => validateConfig(config));
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true }),
    new ServerlessChecks(app, { verbose: true }),
  );
  return validated.map((config) => {
    // Environment-agnostic when neither the config nor the CLI names an account/region: synth stays offline. An
    // environment that retains data always names both (validateConfig), so the CLI's credentials cannot move it.
    const account = config.account ?? process.env.CDK_DEFAULT_ACCOUNT;
    const region = config.region ?? process.env.CDK_DEFAULT_REGION;
    return new OneioRelayStack(app, config, {
      env: { ...(account !== undefined && { account }), ...(region !== undefined && { region }) },
    });
  });
}

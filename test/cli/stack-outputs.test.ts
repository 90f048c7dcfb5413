import { describe, expect, it } from 'vitest';
import { relayStackName } from '../../infra/cli/environments';
import { STACK_OUTPUTS } from '../../infra/cli/stack-outputs';
import { environments, qa } from '../../infra/config';
import { relayStackId } from '../../infra/oneio-relay-stack';
import { synthRelayApp } from '../infra/relay-app';

/**
 * The CLI finds a deployment by stack name and output keys without loading the CDK app (seconds per command).
 * This pins both against what the app really synthesizes, so a rename in infra/ fails here and not in an
 * operator's terminal.
 */
describe('what the CLI reads from a deployed stack', () => {
  it('names each environment stack as the app does', () => {
    for (const { environmentName } of environments) {
      expect(relayStackName(environmentName)).toBe(relayStackId(environmentName));
    }
  });

  it('reads outputs the synthesized stack has', () => {
    // One environment is enough: every stack gets its outputs from the same code, and a synth costs seconds.
    const [relay] = synthRelayApp([qa]);

    expect(relay?.stack.stackName).toBe(relayStackName(qa.environmentName));
    expect(Object.keys(relay?.template.findOutputs('*') ?? {})).toEqual(
      expect.arrayContaining(Object.values(STACK_OUTPUTS)),
    );
    // The first synth of a test file loads aws-cdk-lib and runs both cdk-nag packs: seconds, more on a busy machine.
  }, 60_000);
});

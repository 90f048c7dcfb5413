import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StsEmulator, startStsEmulator } from '../../infra/local/sts-emulator';

/** The real STS client against the stand-in, over the AWS Query protocol. */
describe('STS emulator', () => {
  let sts: StsEmulator;
  let client: STSClient;

  beforeAll(async () => {
    sts = await startStsEmulator({ arn: 'arn:aws:sts::123456789012:assumed-role/Ops/bob' });
    client = new STSClient({
      endpoint: sts.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client.destroy();
    await sts.close();
  });

  it('tells the caller who it is, and counts the call', async () => {
    const first = await client.send(new GetCallerIdentityCommand({}));
    sts.setArn('arn:aws:iam::123456789012:user/carol');
    const second = await client.send(new GetCallerIdentityCommand({}));

    expect(first).toMatchObject({
      Arn: 'arn:aws:sts::123456789012:assumed-role/Ops/bob',
      Account: '123456789012',
    });
    expect(second.Arn).toBe('arn:aws:iam::123456789012:user/carol');
    expect(sts.calls.GetCallerIdentity).toBe(2);
  });
});

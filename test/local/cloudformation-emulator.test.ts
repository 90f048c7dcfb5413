import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CloudFormationEmulator,
  startCloudFormationEmulator,
} from '../../infra/local/cloudformation-emulator';

/** The real CloudFormation client against the stand-in, over the AWS Query protocol. */
describe('CloudFormation emulator', () => {
  let cloudformation: CloudFormationEmulator;
  let client: CloudFormationClient;

  beforeAll(async () => {
    cloudformation = await startCloudFormationEmulator();
    client = new CloudFormationClient({
      endpoint: cloudformation.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client.destroy();
    await cloudformation.close();
  });

  it('reports outputs, status, creation and last update of a stack', async () => {
    const created = new Date('2025-04-01T08:00:00.000Z');
    const updated = new Date('2025-05-01T12:00:00.000Z');
    cloudformation.setStack('S1', { TableName: 't' }, { creationTime: created, lastUpdatedTime: updated });
    cloudformation.setStack('S2', {}, { status: 'UPDATE_ROLLBACK_FAILED', creationTime: created });

    const { Stacks: [updatedStack] = [] } = await client.send(new DescribeStacksCommand({ StackName: 'S1' }));
    const { Stacks: [failedStack] = [] } = await client.send(new DescribeStacksCommand({ StackName: 'S2' }));

    expect(updatedStack).toMatchObject({
      StackName: 'S1',
      StackStatus: 'UPDATE_COMPLETE',
      CreationTime: created,
      LastUpdatedTime: updated,
      Outputs: [{ OutputKey: 'TableName', OutputValue: 't' }],
    });
    expect(failedStack?.StackStatus).toBe('UPDATE_ROLLBACK_FAILED');
    expect(failedStack?.LastUpdatedTime).toBeUndefined();
  });
});

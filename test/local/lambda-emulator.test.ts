import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LambdaEmulator, startLambdaEmulator } from '../../infra/local/lambda-emulator';

/** The real Lambda client against the stand-in: REST-JSON path, dates and error type as the service has them. */
describe('Lambda emulator', () => {
  let lambda: LambdaEmulator;
  let client: LambdaClient;

  beforeAll(async () => {
    lambda = await startLambdaEmulator({ region: 'eu-west-1' });
    client = new LambdaClient({
      endpoint: lambda.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client.destroy();
    await lambda.close();
  });

  it('reports a function configuration by name or ARN', async () => {
    lambda.setFunction({
      name: 'OneioRelay-qa-Relay-abc',
      codeSha256: 'c2hhMjU2',
      lastModified: new Date('2025-05-01T12:00:00.000Z'),
      environment: { RELAY_TABLE_NAME: 'table-1' },
    });

    const byName = await client.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'OneioRelay-qa-Relay-abc' }),
    );
    const byArn = await client.send(
      new GetFunctionConfigurationCommand({
        FunctionName: 'arn:aws:lambda:eu-west-1:000000000000:function:OneioRelay-qa-Relay-abc',
      }),
    );

    expect(byName).toMatchObject({
      FunctionName: 'OneioRelay-qa-Relay-abc',
      Version: '$LATEST',
      CodeSha256: 'c2hhMjU2',
      LastModified: '2025-05-01T12:00:00.000+0000',
      State: 'Active',
      LastUpdateStatus: 'Successful',
      Environment: { Variables: { RELAY_TABLE_NAME: 'table-1' } },
    });
    expect(byArn.FunctionName).toBe('OneioRelay-qa-Relay-abc');
    expect(lambda.calls.GetFunctionConfiguration).toBe(2);
  });

  it('answers a missing function with ResourceNotFoundException', async () => {
    await expect(
      client.send(new GetFunctionConfigurationCommand({ FunctionName: 'missing' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Function not found: arn:aws:lambda:eu-west-1:000000000000:function:missing',
      $metadata: { httpStatusCode: 404 },
    });
  });
});

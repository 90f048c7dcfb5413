import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../../infra/local/secrets-manager-emulator';

const CREDENTIALS_SECRET = 'oneio-relay/qa/oneio-credentials';
const CREDENTIALS_JSON = '{"client_id":"relay-qa","client_secret":"a&b=c+d %é"}';
const DUMMY_CREDENTIALS = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' };

describe('Secrets Manager emulator', () => {
  let secretsManager: SecretsManagerEmulator;
  let client: SecretsManagerClient;

  beforeEach(async () => {
    secretsManager = await startSecretsManagerEmulator({
      secrets: { [CREDENTIALS_SECRET]: CREDENTIALS_JSON },
    });
    client = new SecretsManagerClient({
      endpoint: secretsManager.url,
      region: 'us-east-1',
      credentials: DUMMY_CREDENTIALS,
    });
  });

  afterEach(async () => {
    client.destroy();
    await secretsManager.close();
  });

  it('answers GetSecretValue to the real SDK client, by name or by ARN', async () => {
    // Act
    const byName = await client.send(new GetSecretValueCommand({ SecretId: CREDENTIALS_SECRET }));
    const byArn = await client.send(new GetSecretValueCommand({ SecretId: byName.ARN }));

    // Assess
    expect(byName).toMatchObject({
      Name: CREDENTIALS_SECRET,
      SecretString: CREDENTIALS_JSON,
      VersionStages: ['AWSCURRENT'],
      ARN: expect.stringMatching(
        /^arn:aws:secretsmanager:us-east-1:\d{12}:secret:oneio-relay\/qa\/oneio-credentials-\w{6}$/,
      ),
    });
    expect(byName.CreatedDate).toBeInstanceOf(Date);
    expect(Math.abs(Date.now() - (byName.CreatedDate?.getTime() ?? 0))).toBeLessThan(60_000);
    expect(byArn.SecretString).toBe(CREDENTIALS_JSON);
    expect(secretsManager.calls.GetSecretValue).toBe(2);
  });

  it('surfaces an unknown secret as the SDK ResourceNotFoundException', async () => {
    const attempt = client.send(new GetSecretValueCommand({ SecretId: 'missing' }));

    await expect(attempt).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(attempt).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('stores a new current version with PutSecretValue, visible to the next read and to DescribeSecret', async () => {
    // Prepare
    const before = await client.send(new GetSecretValueCommand({ SecretId: CREDENTIALS_SECRET }));

    // Act
    const put = await client.send(
      new PutSecretValueCommand({ SecretId: CREDENTIALS_SECRET, SecretString: '{"client_id":"rotated"}' }),
    );
    const after = await client.send(new GetSecretValueCommand({ SecretId: CREDENTIALS_SECRET }));
    const described = await client.send(new DescribeSecretCommand({ SecretId: CREDENTIALS_SECRET }));

    // Assess
    expect(after.SecretString).toBe('{"client_id":"rotated"}');
    expect(after.VersionId).toBe(put.VersionId);
    expect(after.VersionId).not.toBe(before.VersionId);
    expect(described.VersionIdsToStages).toEqual({ [String(put.VersionId)]: ['AWSCURRENT'] });
  });

  it('serves secrets set through the control API', async () => {
    secretsManager.setSecret('oneio-relay/qa/signing', '{"github":"s3cr3t"}');

    const { SecretString } = await client.send(
      new GetSecretValueCommand({ SecretId: 'oneio-relay/qa/signing' }),
    );

    expect(SecretString).toBe('{"github":"s3cr3t"}');
  });

  it('fails the next calls as told; the SDK retries a 500 by itself', async () => {
    // Prepare
    secretsManager.failNext({ times: 1, status: 500 });

    // Act
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: CREDENTIALS_SECRET }));

    // Assess
    expect(SecretString).toBe(CREDENTIALS_JSON);
    expect(secretsManager.calls.GetSecretValue).toBe(2);
  });

  it('surfaces a failure as the SDK error class the service would produce', async () => {
    // Prepare
    const noRetries = new SecretsManagerClient({
      endpoint: secretsManager.url,
      region: 'us-east-1',
      credentials: DUMMY_CREDENTIALS,
      maxAttempts: 1,
    });

    try {
      // Act
      secretsManager.failNext({ times: 1, status: 500 });
      const internal = await noRetries
        .send(new GetSecretValueCommand({ SecretId: CREDENTIALS_SECRET }))
        .catch((e) => e);
      secretsManager.failNext({ times: 1, status: 503 });
      const unavailable = await noRetries
        .send(new GetSecretValueCommand({ SecretId: CREDENTIALS_SECRET }))
        .catch((e) => e);

      // Assess
      expect(internal).toBeInstanceOf(InternalServiceError);
      expect(internal).toMatchObject({ $fault: 'server', $metadata: { httpStatusCode: 500 } });
      // An error type the service model does not declare still arrives as the service's base exception.
      expect(unavailable).toBeInstanceOf(SecretsManagerServiceException);
      expect(unavailable).toMatchObject({ name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    } finally {
      noRetries.destroy();
    }
  });

  it('gives up after the SDK default three attempts when the outage lasts', async () => {
    // Prepare
    secretsManager.failNext({ times: 3, status: 503 });

    // Act
    const error = await client
      .send(new GetSecretValueCommand({ SecretId: CREDENTIALS_SECRET }))
      .catch((e) => e);

    // Assess
    expect(error).toMatchObject({
      name: 'ServiceUnavailable',
      $metadata: { httpStatusCode: 503, attempts: 3 },
    });
    expect(secretsManager.calls.GetSecretValue).toBe(3);
  });

  it('is reached through AWS_ENDPOINT_URL_SECRETS_MANAGER, as the function finds it', async () => {
    // Prepare: the function relies on the SDK default chain, which reads the variable.
    const previous = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secretsManager.url;
    const fromEnvironment = new SecretsManagerClient({ region: 'us-east-1', credentials: DUMMY_CREDENTIALS });

    try {
      // Act
      const { SecretString } = await fromEnvironment.send(
        new GetSecretValueCommand({ SecretId: CREDENTIALS_SECRET }),
      );

      // Assess
      expect(SecretString).toBe(CREDENTIALS_JSON);
      expect(secretsManager.calls.GetSecretValue).toBe(1);
    } finally {
      fromEnvironment.destroy();
      if (previous === undefined) {
        delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
      } else {
        process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = previous;
      }
    }
  });
});

import { createHmac, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, EventBridgeEvent } from 'aws-lambda';

/** An API Gateway HTTP API (payload 2.0) event for `POST /webhooks/{source}`, as API Gateway builds it. */
export function webhookEvent(
  source: string,
  body: string,
  headers: Record<string, string> = {},
): APIGatewayProxyEventV2 {
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/{source}',
    rawPath: `/webhooks/${source}`,
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...headers,
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api1234567',
      domainName: 'api1234567.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'api1234567',
      http: {
        method: 'POST',
        path: `/webhooks/${source}`,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.10',
        userAgent: 'GitHub-Hookshot/test',
      },
      requestId,
      routeKey: 'POST /webhooks/{source}',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    pathParameters: { source },
    body,
    isBase64Encoded: false,
  };
}

/** A webhook signed the way GitHub signs it (`X-Hub-Signature-256`), with a fresh delivery id. */
export function githubWebhook(body: string, secret: string): APIGatewayProxyEventV2 {
  const signature = createHmac('sha256', secret).update(body).digest('hex');
  return webhookEvent('github', body, {
    'x-hub-signature-256': `sha256=${signature}`,
    'x-github-delivery': randomUUID(),
    'x-github-event': 'push',
  });
}

/** An event as an EventBridge rule delivers it to Lambda. */
export function eventBridgeEvent(detail: Record<string, unknown>): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0'],
    detail,
  };
}

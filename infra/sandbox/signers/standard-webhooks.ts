import { createHmac, randomUUID } from 'node:crypto';
import type { SampleSigner } from './types';

/**
 * Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the base64
 * part of the `whsec_` secret.
 */
export const standardWebhooksSigner: SampleSigner = {
  sampleSecret: (source) => `whsec_${Buffer.from(`sandbox-${source}-signing-secret`).toString('base64')}`,
  sampleBody: () => JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_sandbox', total: 4200 } }),
  sign: (body, secret, _declaration, nowMs) => {
    const id = `msg_${randomUUID()}`;
    const timestamp = String(Math.floor(nowMs / 1000));
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
    return {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': timestamp,
      'webhook-signature': `v1,${signature}`,
    };
  },
};

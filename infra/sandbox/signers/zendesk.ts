import { createHmac, randomUUID } from 'node:crypto';
import type { SampleSigner } from './types';

/** Zendesk: base64 HMAC-SHA256 of `<ISO timestamp><body>`, with the invocation id Zendesk keeps across retries. */
export const zendeskSigner: SampleSigner = {
  sampleSecret: (source) => `sandbox-${source}-signing-secret`,
  sampleBody: () =>
    JSON.stringify({
      type: 'zen:event-type:ticket.created',
      detail: { id: '35436', subject: 'VPN is down' },
    }),
  sign: (body, secret, _declaration, nowMs) => {
    const timestamp = new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
    const signature = createHmac('sha256', secret).update(timestamp).update(body).digest('base64');
    return {
      'content-type': 'application/json',
      'x-zendesk-webhook-signature-timestamp': timestamp,
      'x-zendesk-webhook-signature': signature,
      'x-zendesk-webhook-invocation-id': randomUUID(),
    };
  },
};

import { createHmac, randomUUID } from 'node:crypto';
import type { SampleSigner } from './types';

/** PagerDuty V3: `X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the body>` (several during a secret rotation). */
export const pagerdutySigner: SampleSigner = {
  sampleSecret: (source) => `sandbox-${source}-signing-secret`,
  sampleBody: () =>
    JSON.stringify({
      event: {
        id: randomUUID(),
        event_type: 'incident.triggered',
        data: { id: 'PGR0VU2', title: 'Disk full on db-1' },
      },
    }),
  sign: (body, secret) => ({
    'content-type': 'application/json',
    'x-pagerduty-signature': `v1=${createHmac('sha256', secret).update(body).digest('hex')}`,
  }),
};

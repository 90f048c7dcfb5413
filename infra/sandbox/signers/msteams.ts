import { createHmac, randomUUID } from 'node:crypto';
import type { SampleSigner } from './types';

/** Teams outgoing webhook: `Authorization: HMAC <base64 HMAC-SHA256 of the body>`, keyed with the decoded token. */
export const msteamsSigner: SampleSigner = {
  // Teams shows the security token base64-encoded; this one decodes to the sandbox's sample key.
  sampleSecret: (source) => Buffer.from(`sandbox-${source}-security-token`).toString('base64'),
  sampleBody: () =>
    JSON.stringify({ type: 'message', id: randomUUID(), text: '<at>relay</at> open a ticket: VPN is down' }),
  sign: (body, secret) => ({
    'content-type': 'application/json',
    authorization: `HMAC ${createHmac('sha256', Buffer.from(secret, 'base64')).update(body).digest('base64')}`,
  }),
};

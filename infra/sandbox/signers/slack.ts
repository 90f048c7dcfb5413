import { createHmac, randomBytes } from 'node:crypto';
import type { SampleSigner } from './types';

/** Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">` with the request timestamp. */
export const slackSigner: SampleSigner = {
  sampleSecret: (source) => `sandbox-${source}-signing-secret`,
  sampleBody: () =>
    JSON.stringify({
      type: 'event_callback',
      event_id: `Ev${randomBytes(6).toString('hex').toUpperCase()}`,
      event: { type: 'message', channel: 'C0SANDBOX', text: 'Printer on floor 3 is on fire' },
    }),
  sign: (body, secret, _declaration, nowMs) => {
    const timestamp = String(Math.floor(nowMs / 1000));
    const digest = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
    return {
      'content-type': 'application/json',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': `v0=${digest}`,
    };
  },
};

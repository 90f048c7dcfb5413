import { createHmac, randomUUID } from 'node:crypto';
import type { SampleSigner } from './types';

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, delivery id in `X-GitHub-Delivery`. */
export const githubSigner: SampleSigner = {
  sampleSecret: (source) => `sandbox-${source}-signing-secret`,
  sampleBody: () =>
    JSON.stringify({
      zen: 'Keep it logically awesome.',
      hook_id: 123456789,
      repository: { full_name: 'example/oneio-relay-sandbox' },
    }),
  sign: (body, secret) => ({
    'content-type': 'application/json',
    'x-github-event': 'ping',
    'x-github-delivery': randomUUID(),
    'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
  }),
};

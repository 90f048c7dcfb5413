import type { SampleSigner } from './types';

/** HTTP Basic: the secret is `user:password`, sent base64-encoded in `Authorization`. */
export const basicSigner: SampleSigner = {
  sampleSecret: (source) => `sandbox:${source}-password`,
  sampleBody: () => JSON.stringify({ ticket: { id: 42, status: 'open' } }),
  sign: (_body, secret) => ({
    'content-type': 'application/json',
    authorization: `Basic ${Buffer.from(secret).toString('base64')}`,
  }),
};

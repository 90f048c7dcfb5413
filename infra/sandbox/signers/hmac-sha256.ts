import { createHmac } from 'node:crypto';
import type { SampleSigner } from './types';

/** Generic HMAC-SHA256 of the body in the header the source declares, with its prefix and encoding. */
export const hmacSha256Signer: SampleSigner = {
  sampleSecret: (source) => `sandbox-${source}-signing-secret`,
  sampleBody: () => JSON.stringify({ webhookEvent: 'jira:issue_created', issue: { key: 'OPS-1' } }),
  sign: (body, secret, declaration) => {
    if (declaration.scheme !== 'hmac-sha256') throw new TypeError('hmac-sha256 signer for another scheme');
    const digest = createHmac('sha256', secret).update(body).digest(declaration.encoding);
    return {
      'content-type': 'application/json',
      [declaration.header.toLowerCase()]: `${declaration.prefix ?? ''}${digest}`,
    };
  },
};

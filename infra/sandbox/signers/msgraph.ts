import { randomUUID } from 'node:crypto';
import type { SampleSigner } from './types';

/**
 * Microsoft Graph change notifications carry no signature: each notification carries the subscription's
 * `clientState`, so the "signing" is putting the secret into the body the sandbox sends.
 */
export const msgraphSigner: SampleSigner = {
  sampleSecret: (source) => `sandbox-${source}-client-state`,
  sampleBody: () => JSON.stringify({ value: [notification('CLIENT_STATE')] }),
  sign: () => ({ 'content-type': 'application/json' }),
  body: (body, secret) => body.replaceAll('CLIENT_STATE', secret),
};

function notification(clientState: string) {
  return {
    subscriptionId: randomUUID(),
    changeType: 'created',
    resource: "Users/sandbox/Messages('AAMkAD')",
    clientState,
    tenantId: randomUUID(),
  };
}

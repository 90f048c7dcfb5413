import { createHmac, randomBytes } from 'node:crypto';
import type { SampleSigner } from './types';

/** Stripe: `Stripe-Signature: t=<seconds>,v1=<hex HMAC-SHA256 of "t.body">` keyed with the `whsec_…` secret as is. */
export const stripeSigner: SampleSigner = {
  sampleSecret: (source) => `whsec_sandbox-${source}-signing-secret`,
  sampleBody: () =>
    JSON.stringify({
      id: `evt_${randomBytes(12).toString('hex')}`,
      object: 'event',
      type: 'payment_intent.succeeded',
      data: { object: { id: 'pi_sandbox', amount: 2000, currency: 'eur' } },
    }),
  sign: (body, secret, _declaration, nowMs) => {
    const t = Math.floor(nowMs / 1000);
    const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    return { 'content-type': 'application/json', 'stripe-signature': `t=${t},v1=${v1}` };
  },
};

import type { SampleSigner } from './types';

/** No authentication: nothing to add but the content type. */
export const unauthenticatedSigner: SampleSigner = {
  sampleSecret: () => '',
  sampleBody: () => JSON.stringify({ hello: 'from an unauthenticated sender' }),
  sign: () => ({ 'content-type': 'application/json' }),
};

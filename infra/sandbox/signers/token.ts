import { randomUUID } from 'node:crypto';
import type { SampleSigner } from './types';

/** A static shared token in the header (GitLab's `X-Gitlab-Token`) or the query parameter the source declares. */
export const tokenSigner: SampleSigner = {
  sampleSecret: (source) => `sandbox-${source}-token`,
  sampleBody: () =>
    JSON.stringify({ object_kind: 'issue', object_attributes: { iid: 7, title: 'Deploy failed' } }),
  sign: (_body, secret, declaration) => {
    if (declaration.scheme !== 'token') throw new TypeError('token signer for another scheme');
    return {
      'content-type': 'application/json',
      ...(declaration.header !== undefined && { [declaration.header.toLowerCase()]: secret }),
      ...(declaration.idHeader !== undefined && { [declaration.idHeader.toLowerCase()]: randomUUID() }),
    };
  },
  query: (secret, declaration) =>
    declaration.scheme === 'token' && declaration.query !== undefined
      ? new URLSearchParams({ [declaration.query]: secret }).toString()
      : '',
};

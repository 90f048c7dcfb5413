import { accept, type Verdict, type Verifier } from './types';

/**
 * Accepts every request. Only reachable when an operator declares `scheme: 'unauthenticated'` for a source;
 * an IP allow-list, if declared, still applies (see `verifierFor`).
 */
export function unauthenticatedVerifier(): Verifier {
  return {
    verify(): Verdict {
      return accept();
    },
  };
}

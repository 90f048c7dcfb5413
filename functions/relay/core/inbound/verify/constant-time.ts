import { timingSafeEqual } from 'node:crypto';

/**
 * Compares two byte strings in time that depends only on their length.
 *
 * `timingSafeEqual` throws on buffers of different lengths, so the lengths are compared first. That leaks
 * nothing: callers compare digests, whose length is fixed by the algorithm and known to everyone.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * True when any candidate equals any expected digest. Every pair is compared, even after a match, so the time
 * taken says nothing about which secret or which signature entry matched.
 */
export function anyEqual(expected: readonly Uint8Array[], candidates: readonly Uint8Array[]): boolean {
  let found = false;
  for (const e of expected) {
    for (const c of candidates) {
      // The comparison comes first so that `||` never skips it.
      found = constantTimeEqual(e, c) || found;
    }
  }
  return found;
}

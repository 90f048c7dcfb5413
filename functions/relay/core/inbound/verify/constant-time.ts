import { createHash, timingSafeEqual } from 'node:crypto';

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

/**
 * The index of the first expected digest that equals any candidate, or -1. Like {@link anyEqual}, every pair is
 * compared, so the time taken does not depend on where the match is. For schemes whose answer depends on which
 * secret matched (Zoom's handshake is keyed with it).
 */
export function matchingIndex(expected: readonly Uint8Array[], candidates: readonly Uint8Array[]): number {
  let index = -1;
  expected.forEach((e, i) => {
    let matched = false;
    for (const c of candidates) matched = constantTimeEqual(e, c) || matched;
    if (matched && index < 0) index = i;
  });
  return index;
}

/**
 * True when `value` equals any of `secrets` (static tokens, `user:password`, Graph's clientState). Both sides are
 * compared as SHA-256 digests, so the comparison takes the same time whatever their lengths and contents. Empty
 * secrets never match.
 */
export function equalsAnySecret(secrets: readonly string[], value: string | Buffer): boolean {
  const expected = secrets.filter((s) => s.length > 0).map(sha256);
  return expected.length > 0 && anyEqual(expected, [sha256(value)]);
}

function sha256(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}

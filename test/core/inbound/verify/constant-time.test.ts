import { describe, expect, it } from 'vitest';
import {
  anyEqual,
  constantTimeEqual,
  equalsAnySecret,
  matchingIndex,
} from '../../../../functions/relay/core/inbound/verify/constant-time';

describe('constantTimeEqual', () => {
  it('is true for equal bytes', () => {
    // Act / Assess
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abc'))).toBe(true);
  });

  it('is false for different bytes of the same length', () => {
    // Act / Assess
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abd'))).toBe(false);
  });

  it('is false, without throwing, for different lengths', () => {
    // Act / Assess
    expect(constantTimeEqual(Buffer.from('abc'), Buffer.from('abcd'))).toBe(false);
  });
});

describe('anyEqual', () => {
  it('is true when any candidate equals any expected value', () => {
    // Act / Assess
    expect(anyEqual([Buffer.from('a'), Buffer.from('b')], [Buffer.from('c'), Buffer.from('b')])).toBe(true);
  });

  it('is false when none does, or when either side is empty', () => {
    // Act / Assess
    expect(anyEqual([Buffer.from('a')], [Buffer.from('b')])).toBe(false);
    expect(anyEqual([], [Buffer.from('a')])).toBe(false);
    expect(anyEqual([Buffer.from('a')], [])).toBe(false);
  });
});

describe('matchingIndex', () => {
  const [a, b, c] = [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')];

  it('is the index of the first expected value that any candidate equals', () => {
    // Act / Assess
    expect(matchingIndex([a, b, c], [c, b])).toBe(1);
    expect(matchingIndex([a, b, b], [b])).toBe(1);
  });

  it('is -1 when nothing matches', () => {
    // Act / Assess
    expect(matchingIndex([a, b], [c])).toBe(-1);
    expect(matchingIndex([], [a])).toBe(-1);
  });
});

describe('equalsAnySecret', () => {
  it('is true when the value equals one of the secrets, whatever their lengths', () => {
    // Act / Assess
    expect(equalsAnySecret(['short', 'a much longer secret value'], 'a much longer secret value')).toBe(true);
    expect(equalsAnySecret(['user:pass'], Buffer.from('user:pass'))).toBe(true);
  });

  it('is false for a prefix, an extension or another value', () => {
    // Act / Assess
    expect(equalsAnySecret(['secret'], 'secre')).toBe(false);
    expect(equalsAnySecret(['secret'], 'secrets')).toBe(false);
    expect(equalsAnySecret(['secret'], 'public')).toBe(false);
  });

  it('never matches an empty secret, not even an empty value', () => {
    // Act / Assess
    expect(equalsAnySecret([''], '')).toBe(false);
    expect(equalsAnySecret([], '')).toBe(false);
  });
});

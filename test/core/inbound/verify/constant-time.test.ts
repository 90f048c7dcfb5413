import { describe, expect, it } from 'vitest';
import { anyEqual, constantTimeEqual } from '../../../../functions/relay/core/inbound/verify/constant-time';

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

import { describe, expect, it } from 'vitest';
import {
  parseSourceDeclarations,
  SourceDeclarationError,
} from '../../../../functions/relay/core/inbound/source-declaration';
import { ipAllowList } from '../../../../functions/relay/core/inbound/verify/ip-allow-list';

describe('ipAllowList', () => {
  // GitHub-like ranges: one IPv4 block, one IPv6 block, and a network written with host bits set.
  const list = ipAllowList(['192.30.252.0/22', '2a0a:a440::/29', '140.82.115.7/20']);

  it.each([
    ['IPv4 at the start of a block', '192.30.252.0'],
    ['IPv4 at the end of a block', '192.30.255.255'],
    ['IPv4 in a block written with host bits set', '140.82.112.1'],
    ['IPv6 inside', '2a0a:a440:1234::1'],
    ['IPv6 written in upper case', '2A0A:A440::1'],
    ['IPv4-mapped IPv6 of an allowed IPv4', '::ffff:192.30.253.10'],
  ])('allows %s', (_case, ip) => {
    // Act / Assess
    expect(list.allows(ip)).toBe(true);
  });

  it.each([
    ['IPv4 just below a block', '192.30.251.255'],
    ['IPv4 just above a block', '192.31.0.0'],
    ['IPv6 outside', '2a0a:a448::1'],
    ['IPv4-mapped IPv6 of another IPv4', '::ffff:10.0.0.1'],
    ['no address', undefined],
    ['an empty address', ''],
    ['not an address', 'localhost'],
    ['an address with a port', '192.30.252.1:443'],
  ])('refuses %s', (_case, ip) => {
    // Act / Assess
    expect(list.allows(ip)).toBe(false);
  });

  it('matches an IPv4 address against an IPv4-mapped IPv6 block', () => {
    // Prepare
    const mapped = ipAllowList(['::ffff:198.51.100.0/120']);

    // Act / Assess
    expect(mapped.allows('198.51.100.7')).toBe(true);
    expect(mapped.allows('198.51.101.7')).toBe(false);
  });

  it.each([
    ['no prefix length', '192.0.2.0'],
    ['a prefix too long for IPv4', '192.0.2.0/33'],
    ['a prefix too long for IPv6', '2001:db8::/129'],
    ['an invalid address', '192.0.2.256/24'],
    ['a host name', 'example.com/24'],
  ])('refuses to build from a block with %s', (_case, cidr) => {
    // Act / Assess
    expect(() => ipAllowList([cidr])).toThrow(cidr);
  });

  it('refuses to build from an empty list, which would refuse everyone', () => {
    // Act / Assess
    expect(() => ipAllowList([])).toThrow(/empty/);
  });
});

describe('allowCidrs in a source declaration', () => {
  it.each([
    ['192.0.2.0/24'],
    ['0.0.0.0/0'],
    ['2001:db8::/32'],
    ['::ffff:192.0.2.0/120'],
    ['192.0.2.0'],
    ['192.0.2.0/33'],
    ['2001:db8:::/32'],
    ['192.0.2.256/24'],
    ['01.2.3.4/8'],
    ['example.com/24'],
  ])('is accepted at synth exactly when the function can build an allow-list from it: %s', (cidr) => {
    // Prepare
    const buildable = (() => {
      try {
        ipAllowList([cidr]);
        return true;
      } catch {
        return false;
      }
    })();

    // Act
    const parse = () => parseSourceDeclarations({ github: { scheme: 'github', allowCidrs: [cidr] } });

    // Assess
    if (buildable) expect(parse).not.toThrow();
    else expect(parse).toThrow(SourceDeclarationError);
  });

  it('is refused when empty, which would refuse every request', () => {
    // Act / Assess
    expect(() => parseSourceDeclarations({ github: { scheme: 'github', allowCidrs: [] } })).toThrow(
      SourceDeclarationError,
    );
  });
});

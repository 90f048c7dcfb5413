import { BlockList, isIP } from 'node:net';

/** The source IPs a source accepts requests from. */
export interface IpAllowList {
  allows(sourceIp: string | undefined): boolean;
}

/**
 * Builds the allow-list once (at cold start) from CIDR blocks such as `192.0.2.0/24` or `2001:db8::/32`.
 * `node:net`'s `BlockList` does the subnet matching for both families, and matches an IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`) against IPv4 blocks and the reverse. Throws on a block it cannot read, naming it.
 */
export function ipAllowList(cidrs: readonly string[]): IpAllowList {
  if (cidrs.length === 0) {
    // An empty list would refuse everything; far more likely a mistake than an intent, so fail at start-up.
    throw new RangeError('allowCidrs is empty: omit it to accept any address');
  }
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', bits = '', ...rest] = cidr.split('/');
    const family = isIP(address);
    const prefix = Number(bits);
    const maxPrefix = family === 4 ? 32 : 128;
    if (family === 0 || rest.length > 0 || !/^\d{1,3}$/.test(bits) || prefix > maxPrefix) {
      throw new RangeError(`allowCidrs: ${JSON.stringify(cidr)} is not a CIDR block like 192.0.2.0/24`);
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    allows(sourceIp) {
      const family = sourceIp === undefined ? 0 : isIP(sourceIp);
      // A missing or unreadable address cannot be shown to be inside the list, so it is refused.
      return sourceIp !== undefined && family !== 0 && list.check(sourceIp, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

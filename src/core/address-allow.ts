import { BlockList, isIP } from 'node:net';

/** An allow-list of addresses and CIDR ranges (IPv4 and IPv6); IPv4-mapped IPv6 matches IPv4 rules. */
export class AddressAllowList {
  private readonly list = new BlockList();

  /**
   * The config and policy schemas admit only entries passing `isAddressOrCidr`; one that does not
   * (stored before a check was tightened) allows nothing, never everyone.
   */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      if (!isAddressOrCidr(entry)) continue;
      const [addr, bits] = entry.split('/') as [string, string | undefined];
      const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(addr, type);
      else this.list.addSubnet(addr, Number(bits), type);
    }
  }

  allows(ip: string | undefined | null): boolean {
    if (!ip) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    const addr = mapped ? mapped[1]! : ip;
    const family = isIP(addr);
    if (family === 0) return false;
    return this.list.check(addr, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** True for an IPv4/IPv6 address or CIDR range (the entries an allow-list takes). */
export function isAddressOrCidr(v: string): boolean {
  const [addr, bits, ...rest] = v.split('/');
  const family = addr ? isIP(addr) : 0;
  if (rest.length > 0 || family === 0) return false;
  if (bits === undefined) return true;
  // Decimal digits only: Number('') is 0, so `10.0.0.0/` would otherwise be /0, which allows everyone.
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

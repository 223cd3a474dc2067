import { describe, expect, it } from 'vitest';
import { AddressAllowList, isAddressOrCidr } from './address-allow.js';

describe('address allow-lists [AC-10]', () => {
  it('accepts addresses and CIDR ranges with a decimal prefix length in range', () => {
    for (const v of ['10.0.0.0/8', '192.0.2.1', '192.0.2.0/32', '0.0.0.0/0', '2001:db8::/32', '::1', '2001:db8::/128']) {
      expect(isAddressOrCidr(v), v).toBe(true);
    }
  });

  it('refuses a prefix length that is empty, signed, spaced, hex or out of range (an empty one would read as /0)', () => {
    for (const v of [
      '10.0.0.0/',
      '10.0.0.0/ 8',
      '10.0.0.0/+8',
      '10.0.0.0/0x8',
      '10.0.0.0/8.0',
      '10.0.0.0/33',
      '2001:db8::/129',
      '10.0.0.0/8/8',
      'example.lg.jp',
      '',
    ]) {
      expect(isAddressOrCidr(v), v).toBe(false);
    }
  });

  it('never turns a malformed entry into an allow-everyone rule', () => {
    expect(new AddressAllowList(['10.0.0.0/']).allows('203.0.113.9')).toBe(false);
    const list = new AddressAllowList(['10.0.0.0/8', '2001:db8::/32']);
    expect(list.allows('10.1.2.3')).toBe(true);
    expect(list.allows('::ffff:10.1.2.3')).toBe(true);
    expect(list.allows('203.0.113.9')).toBe(false);
    expect(list.allows('2001:db8::5')).toBe(true);
    expect(list.allows('2001:db9::5')).toBe(false);
    expect(list.allows('not-an-ip')).toBe(false);
  });
});

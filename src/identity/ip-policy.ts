/**
 * Location restriction (AC-10): per-zone allow-lists, optionally per role. For a zone, rules naming
 * the user's role replace the general rules; a zone without applicable rules is unrestricted.
 */
import type { Zone } from '../core/types.js';
import { AddressAllowList } from '../core/address-allow.js';
import type { IpRule, Role } from '../tenants/tenant-settings.js';

export function applicableRules(rules: IpRule[], zone: Zone, role: Role | null): IpRule[] {
  const inZone = rules.filter((r) => r.zone === zone);
  const forRole = role ? inZone.filter((r) => (r.roles as readonly Role[]).includes(role)) : [];
  return forRole.length ? forRole : inZone.filter((r) => r.roles.length === 0);
}

export function ipAllowed(rules: IpRule[], zone: Zone, role: Role | null, ip: string): boolean {
  const applicable = applicableRules(rules, zone, role);
  if (applicable.length === 0) return true;
  return new AddressAllowList(applicable.flatMap((r) => r.cidrs)).allows(ip);
}

/**
 * Device restriction (AC-11): where the tenant requires it, a request must come with a client
 * certificate issued by the tenant's own CA (mTLS on the zone listener).
 */
import type { Zone } from '../core/types.js';
import { checkClientCertificate, parseCaBundle, type ClientCertCheck } from '../crypto/certificates.js';
import type { Role, TenantSettings } from '../tenants/tenant-settings.js';

export function deviceCertRequired(settings: TenantSettings, zone: Zone, role: Role): boolean {
  return settings.deviceCerts.requiredFor.some(
    (r) => r.zone === zone && (r.roles.length === 0 || (r.roles as readonly Role[]).includes(role)),
  );
}

const caCache = new Map<string, ReturnType<typeof parseCaBundle>>();

export function checkDevice(settings: TenantSettings, certDer: Buffer | null | undefined, now: Date): ClientCertCheck {
  const pem = settings.deviceCerts.caPem;
  let cas = caCache.get(pem);
  if (!cas) {
    cas = pem ? parseCaBundle(pem) : [];
    if (caCache.size > 100) caCache.clear();
    caCache.set(pem, cas);
  }
  return checkClientCertificate(certDer, cas, now, new Set(settings.deviceCerts.revokedSerials));
}

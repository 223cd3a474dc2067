/**
 * Device restriction (AC-11): where the tenant requires it, a request must come with a client
 * certificate issued by the tenant's own CA (mTLS on the zone listener).
 */
import type { Zone } from '../core/types.js';
import { AppError } from '../core/errors.js';
import {
  checkClientCertificate,
  CrlError,
  parseCaBundle,
  readCrl,
  type ClientCertCheck,
  type CrlRead,
} from '../crypto/certificates.js';
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

/**
 * The serials a CA's revocation list revokes, for the policy page to add to the revoked list
 * (AC-11). The list must be signed by the tenant's device CA (`caPem`: the one being edited, else
 * the saved one). Nothing is saved here: the administrator saves the policy as usual (audited).
 */
export async function readDeviceCrl(settings: TenantSettings, crl: string, caPem?: string): Promise<CrlRead> {
  let cas;
  try {
    cas = parseCaBundle(caPem ?? settings.deviceCerts.caPem);
  } catch {
    throw new AppError('device.crl_untrusted', 'no device CA certificate to check the list against');
  }
  try {
    return await readCrl(crl, cas);
  } catch (err) {
    if (err instanceof CrlError)
      throw new AppError(err.reason === 'invalid' ? 'device.crl_invalid' : 'device.crl_untrusted', err.message);
    throw err;
  }
}

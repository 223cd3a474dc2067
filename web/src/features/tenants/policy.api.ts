/** Client for the tenant policy (`GET`/`PUT /api/v1/admin/policy`; src/tenants/tenant-settings.ts). */
import { ApiError, getJsonTagged, putJsonIfMatch } from '../../api/api-client';
import type { ROLES, Zone } from '../identity/identity.api';

/**
 * TOTP HMAC choices. HMAC-SHA-1 is the one documented compatibility exception to ENC-04 (see
 * src/crypto/totp.ts); this is the client of the per-tenant setting that selects it.
 */
export const TOTP_ALGORITHMS = ['SHA256', 'SHA1'] as const;
export type TotpAlgorithm = (typeof TOTP_ALGORITHMS)[number];

export function parseTotpAlgorithm(value: string): TotpAlgorithm {
  return (TOTP_ALGORITHMS as readonly string[]).includes(value) ? (value as TotpAlgorithm) : 'SHA256';
}

export interface IpRule {
  zone: Zone;
  roles: Array<(typeof ROLES)[number]>;
  cidrs: string[];
}

export interface TenantPolicy {
  password: {
    minLengthWithMfa: number;
    minLengthPasswordOnly: number;
    maxLength: number;
    characterClasses: number;
    history: number;
    validityDays: number;
    expiryWarningDays: number;
    lockoutThreshold: number;
  };
  session: { idleMinutes: number; absoluteHours: number; stepUpMinutes: number };
  mfa: { requiredForAll: boolean; totpAlgorithm: TotpAlgorithm };
  ipRules: IpRule[];
  twoPersonRule: boolean;
  loginBanner: string;
  /**
   * Settings this page does not edit (acceptable-use notice, features, device certificates, …).
   * The PUT replaces the whole object, so they are sent back exactly as they were read.
   */
  [other: string]: unknown;
}

function policyOf(body: unknown): TenantPolicy {
  const b = body as Partial<TenantPolicy> | null;
  if (!b || typeof b.password !== 'object' || typeof b.session !== 'object' || !Array.isArray(b.ipRules)) {
    throw new ApiError('unknown', 200);
  }
  return b as TenantPolicy;
}

/** The version of the policy this page loaded or last saved: a save from an older one is refused. */
let policyTag: string | null = null;

export async function fetchPolicy(): Promise<TenantPolicy> {
  const { body, etag } = await getJsonTagged('/api/v1/admin/policy');
  policyTag = etag;
  return policyOf(body);
}

/**
 * Replaces the whole policy; answers the saved settings. Refused with 409 tenant.settings_conflict
 * when another administrator saved since this page loaded it.
 */
export async function savePolicy(policy: TenantPolicy): Promise<TenantPolicy> {
  const { body, etag } = await putJsonIfMatch('/api/v1/admin/policy', policy, policyTag);
  policyTag = etag;
  return policyOf(body);
}

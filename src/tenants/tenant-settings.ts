/**
 * Per-tenant settings (every default here is a tenant setting with an audit event on change). The
 * password rules follow AC-17 exactly: defaults aligned with NIST SP 800-63B-4, ranges wide enough
 * for stricter municipal rules.
 */
import { z } from 'zod';
import { isAddressOrCidr } from '../core/address-allow.js';
import { DEFAULT_BLOCKED, TYPE_CATEGORIES } from '../malware/true-type.js';

/** Roles inside a tenant (AC-05). */
export const TENANT_ROLES = ['tenant_admin', 'auditor', 'approver', 'staff', 'guest'] as const;
/** Every role; `operator` exists only in the system tenant (the provider's staff, AC-07). */
export const ROLES = [...TENANT_ROLES, 'operator'] as const;
export type Role = (typeof ROLES)[number];
export type TenantRole = (typeof TENANT_ROLES)[number];
/** Roles that must use MFA whatever the tenant setting (AC-09). */
export const MFA_MANDATORY_ROLES: readonly Role[] = ['tenant_admin', 'approver', 'operator'];

export const PasswordPolicy = z.object({
  minLengthWithMfa: z.number().int().min(8).max(64).default(8),
  minLengthPasswordOnly: z.number().int().min(12).max(64).default(15),
  maxLength: z.number().int().min(64).max(1024).default(128),
  /** Number of character classes (lower, upper, digit, symbol) required; 0 = no composition rule. */
  characterClasses: z.number().int().min(0).max(4).default(0),
  history: z.number().int().min(0).max(24).default(5),
  /** 有効期限 in days; 0 = no expiry (forced change only on suspicion of compromise). */
  validityDays: z
    .number()
    .int()
    .refine((d) => d === 0 || (d >= 30 && d <= 730), '0 or 30–730 days')
    .default(0),
  expiryWarningDays: z.number().int().min(0).max(60).default(14),
  lockoutThreshold: z.number().int().min(3).max(100).default(10),
});
export type PasswordPolicy = z.infer<typeof PasswordPolicy>;

export const SessionPolicy = z.object({
  idleMinutes: z.number().int().min(5).max(480).default(30),
  absoluteHours: z.number().int().min(1).max(24).default(12),
  stepUpMinutes: z.number().int().min(1).max(60).default(10),
});

export const MfaPolicy = z.object({
  /** Require MFA for every role (default); tenant_admin and approver always need it. */
  requiredForAll: z.boolean().default(true),
  totpAlgorithm: z.enum(['SHA256', 'SHA1']).default('SHA256'),
});

const Cidr = z.string().refine(isAddressOrCidr, 'IPv4/IPv6 address or CIDR');

/** An allow-list for one zone; `roles` narrows it to some roles (empty = everyone). */
export const IpRule = z.object({
  zone: z.enum(['lgwan', 'internet']),
  roles: z.array(z.enum(TENANT_ROLES)).default([]),
  cidrs: z.array(Cidr).min(1).max(500),
});
export type IpRule = z.infer<typeof IpRule>;

/** Service functions a tenant can switch off, per zone (AC-06); each capability checks its switch. */
export const FEATURES = [
  'external_sharing',
  'public_links',
  'upload_requests',
  'password_only_links',
  'api_tokens',
  'downloads',
] as const;
export type Feature = (typeof FEATURES)[number];
const ZoneFeatures = z.object({
  external_sharing: z.boolean().default(true),
  public_links: z.boolean().default(false),
  upload_requests: z.boolean().default(true),
  password_only_links: z.boolean().default(false),
  api_tokens: z.boolean().default(false),
  downloads: z.boolean().default(true),
});
export const FeatureSettings = z.object({
  lgwan: ZoneFeatures.default(ZoneFeatures.parse({})),
  internet: ZoneFeatures.default(ZoneFeatures.parse({})),
  /** Longest expiry a share or request link may have. */
  maxLinkExpiryDays: z.number().int().min(1).max(365).default(30),
  /** Longest lifetime of an API token (AC-15). */
  maxApiTokenDays: z.number().int().min(1).max(365).default(90),
});

const GiB = 1024 * 1024 * 1024;

/** Storage rules: quotas (0 = no limit beyond the service's), and how long the trash keeps items. */
export const FileSettings = z.object({
  tenantQuotaBytes: z
    .number()
    .int()
    .min(0)
    .default(1024 * GiB),
  userQuotaBytes: z
    .number()
    .int()
    .min(0)
    .default(100 * GiB),
  /** Days an item stays in the trash before it is purged for good. */
  trashDays: z.number().int().min(1).max(365).default(30),
});
export type FileSettings = z.infer<typeof FileSettings>;

/**
 * Malware and 無害化 rules (MAL-03 … MAL-10): the true-type block-list, what happens to encrypted
 * content, mismatched types and formats no sanitiser handles, the internet → LGWAN 無害化 rule, how
 * long originals are kept, the two-person rule for releases, and the guidance text shown to staff.
 */
export const MalwareSettings = z.object({
  blockedTypes: z.array(z.enum(TYPE_CATEGORIES)).max(TYPE_CATEGORIES.length).default(DEFAULT_BLOCKED),
  /** Extension or declared type that disagrees with the content: keep held for review, or block. */
  typeMismatch: z.enum(['hold', 'block']).default('hold'),
  /** Encrypted archives and documents (cannot be scanned inside): block, or hold for review. */
  encrypted: z.enum(['block', 'hold']).default('block'),
  /** Internet-origin files reach the LGWAN zone only as their sanitised version (MAL-08, LG-03). */
  sanitiseInternetToLgwan: z.boolean().default(true),
  /** Formats no sanitiser handles: block, or hold for an administrator's review. */
  unsupported: z.enum(['block', 'hold']).default('block'),
  /** PDFs: `standard` removes active content and rewrites the file; `strict` rebuilds every page as an image. */
  pdfMode: z.enum(['standard', 'strict']).default('standard'),
  /** Days the original of a sanitised file is kept (encrypted, retrievable only with an approval). */
  originalRetentionDays: z.number().int().min(1).max(365).default(14),
  /** A release from quarantine needs a second administrator. */
  twoPersonRelease: z.boolean().default(false),
  /** Guidance shown with the warnings on outside, macro-enabled and released files (MAL-10). */
  guidance: z.string().max(4000).default(''),
});
export type MalwareSettings = z.infer<typeof MalwareSettings>;

const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(\*\.)?([a-z0-9-]+\.)+[a-z0-9-]+$/, 'a domain such as example.jp or *.example.jp');

/** A certificate serial number as `canonicalSerial` writes it: upper-case hex without leading zeros. */
export const CertSerial = z.string().regex(/^(0|[1-9A-F][0-9A-F]{0,39})$/, 'a serial number in hexadecimal');

/**
 * File exchange with outside parties (LG-03, TLS-03, HR-05): domain lists, when a share needs 上長承認
 * and how, and when exchanged copies are deleted.
 */
export const ExchangeSettings = z.object({
  /** Recipient domains allowed (empty = any not denied); `*.example.jp` covers subdomains. */
  allowDomains: z.array(Domain).max(500).default([]),
  denyDomains: z.array(Domain).max(500).default([]),
  approval: z
    .object({
      /** always: every share to outside parties (default) · rules: only when a rule below matches · never. */
      required: z.enum(['always', 'rules', 'never']).default('always'),
      /** rules: a file carrying one of these labels needs approval. */
      labels: z.array(z.string().min(1).max(40)).max(50).default([]),
      /** rules: shares larger than this many bytes in total (0 = no size rule). */
      minBytes: z.number().int().min(0).default(0),
      /** rules: recipients in these domains. */
      domains: z.array(Domain).max(500).default([]),
      /** any: one approver of the sender's groups decides · all: one approver from each of the sender's approval groups. */
      mode: z.enum(['any', 'all']).default('any'),
      /** A request not decided within this many hours expires. */
      pendingHours: z
        .number()
        .int()
        .min(1)
        .max(24 * 30)
        .default(72),
    })
    .default({ required: 'always', labels: [], minBytes: 0, domains: [], mode: 'any', pendingHours: 72 }),
  /** HR-05: exchanged copies are deleted this many days after the last download or the expiry. */
  deleteAfterDays: z.number().int().min(1).max(365).default(7),
  /** Downloads per recipient when the sender does not choose (a sender may choose fewer). */
  maxDownloads: z.number().int().min(1).max(100).default(5),
});
export type ExchangeSettings = z.infer<typeof ExchangeSettings>;

/** A tenant-defined personal-data pattern (PII-02): a name, a regular expression and the label a hit suggests. */
export const PiiPattern = z.object({
  name: z.string().min(1).max(60),
  regex: z
    .string()
    .min(1)
    .max(500)
    .refine((r) => {
      try {
        new RegExp(r, 'u');
        return true;
      } catch {
        return false;
      }
    }, 'a valid regular expression'),
  label: z.string().min(1).max(40),
});

/**
 * Classification labels (PII-01) and personal-data detection (PII-02). A file carries one level
 * and any flags; folders pass theirs down. Labels drive the exchange policy.
 */
export const LabelSettings = z.object({
  levels: z.array(z.string().min(1).max(40)).min(1).max(10).default(['機密性1', '機密性2', '機密性3']),
  /** The level a file has when neither it nor a folder above it sets one (HR-04: every file has a label). */
  defaultLevel: z.string().min(1).max(40).default('機密性2'),
  flags: z.array(z.string().min(1).max(40)).max(20).default(['個人情報', '要配慮個人情報', '特定個人情報']),
  /** Labels that forbid any share to outside parties (`share.label_forbids_external`). */
  externalForbidden: z.array(z.string().min(1).max(40)).max(30).default(['機密性3', '特定個人情報']),
  /** Labels that force 上長承認 on a share whatever the approval rule. */
  approvalForced: z.array(z.string().min(1).max(40)).max(30).default(['個人情報', '要配慮個人情報']),
  /** A My Number hit: suggest the 特定個人情報 label to the uploader, or set it. */
  myNumber: z.enum(['suggest', 'enforce']).default('suggest'),
  /** The label a My Number hit suggests or sets. */
  myNumberLabel: z.string().min(1).max(40).default('特定個人情報'),
  patterns: z.array(PiiPattern).max(50).default([]),
});
export type LabelSettings = z.infer<typeof LabelSettings>;

export const TenantSettings = z.object({
  password: PasswordPolicy.default(PasswordPolicy.parse({})),
  session: SessionPolicy.default(SessionPolicy.parse({})),
  mfa: MfaPolicy.default(MfaPolicy.parse({})),
  /** Empty = no restriction; otherwise a request from a zone with rules must match one that applies to the role. */
  ipRules: z.array(IpRule).max(100).default([]),
  /** Two-person rule for user registration (AC-01): the approver must differ from the requester. */
  twoPersonRule: z.boolean().default(false),
  /**
   * While the two-person rule is on, turning it off is itself a two-person decision: the first
   * admin's request waits here (set by the server only, never from input) until another admin
   * turns it off too, within a week.
   */
  twoPersonRuleOffRequest: z.object({ by: z.string(), at: z.string() }).nullable().default(null),
  /** Optional login banner shown before sign-in (AC-12). */
  loginBanner: z.string().max(2000).default(''),
  /** 利用上の注意 (HR-03): accepted by each user at first login and after each change; version 0 = none. */
  acceptableUse: z
    .object({ version: z.number().int().min(0).default(0), text: z.string().max(20_000).default('') })
    .default({ version: 0, text: '' }),
  /** Inactive accounts (AC-03): reported after N days without sign-in; optionally suspended by a daily job. */
  inactivity: z
    .object({ days: z.number().int().min(7).max(730).default(90), autoSuspend: z.boolean().default(false) })
    .default({ days: 90, autoSuspend: false }),
  features: FeatureSettings.default(FeatureSettings.parse({})),
  files: FileSettings.default(FileSettings.parse({})),
  malware: MalwareSettings.default(MalwareSettings.parse({})),
  exchange: ExchangeSettings.default(ExchangeSettings.parse({})),
  labels: LabelSettings.default(LabelSettings.parse({})),
  /**
   * Device restriction (AC-11): the tenant's own CA (PEM) and where a client certificate it issued
   * is required. Rules name a zone and optionally roles (empty = every role).
   */
  deviceCerts: z
    .object({
      caPem: z.string().max(64_000).default(''),
      requiredFor: z
        .array(z.object({ zone: z.enum(['lgwan', 'internet']), roles: z.array(z.enum(ROLES)).default([]) }))
        .max(20)
        .default([]),
      /**
       * Serial numbers (hex) of device certificates the tenant revoked, e.g. a lost terminal's:
       * refused although the CA signed them and they have not expired.
       */
      revokedSerials: z.array(CertSerial).max(5000).default([]),
    })
    .default({ caPem: '', requiredFor: [], revokedSerials: [] }),
});
export type TenantSettings = z.infer<typeof TenantSettings>;

export function parseSettings(json: string): TenantSettings {
  return TenantSettings.parse(JSON.parse(json || '{}'));
}

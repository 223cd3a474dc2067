import { z } from 'zod';
import { FEATURES, MfaPolicy, ROLES, TENANT_ROLES } from '../tenants/tenant-settings.js';

/** Login IDs: NFKC, lower case, trimmed; letters, digits and . _ @ - (employee numbers, mail addresses). */
export function normalizeLoginId(raw: string): string {
  return raw.normalize('NFKC').trim().toLowerCase();
}
export const LoginId = z
  .string()
  .max(128)
  .transform(normalizeLoginId)
  .pipe(z.string().regex(/^[a-z0-9][a-z0-9._@-]{0,127}$/, 'letters, digits and . _ @ -'));

/** Passwords are bounded far above any policy maximum so over-long input is refused with a reason, not cut. */
const PasswordInput = z.string().min(1).max(4096);

export const LoginBody = z.object({
  tenant: z.string().min(1).max(63),
  login: z.string().min(1).max(256),
  password: PasswordInput,
});
export const NextStep = z.enum(['done', 'mfa', 'mfa_enroll', 'password_change', 'terms']);
export type NextStep = z.infer<typeof NextStep>;
export const LoginReply = z.object({ next: NextStep, csrfToken: z.string() });

export const TotpBody = z.object({ code: z.string().max(64) });
export const RecoveryBody = z.object({ code: z.string().max(64) });
export const StepUpBody = z.object({ code: z.string().max(64).optional(), password: PasswordInput.optional() });
export const NextReply = z.object({ next: NextStep });
export const EnrollReply = z.object({
  secret: z.string(),
  otpauthUri: z.string(),
  qrDataUrl: z.string(),
  algorithm: MfaPolicy.shape.totpAlgorithm.unwrap(),
});
export const EnrollConfirmReply = z.object({ next: NextStep, recoveryCodes: z.array(z.string()) });

export const ChangePasswordBody = z.object({
  currentPassword: PasswordInput,
  newPassword: PasswordInput,
  confirmPassword: PasswordInput,
});
export const PasswordCheckBody = z.object({ password: z.string().max(4096), setupToken: z.string().max(128).optional() });
export const PasswordCheckReply = z.object({
  ok: z.boolean(),
  reasons: z.array(z.string()),
  minLength: z.number(),
  maxLength: z.number(),
});

export const TermsReply = z.object({ version: z.number(), text: z.string() });
export const AcceptTermsBody = z.object({ version: z.number().int().min(1) });

export const SetupTokenBody = z.object({ token: z.string().min(1).max(128) });
export const SetupCompleteBody = z.object({
  token: z.string().min(1).max(128),
  password: PasswordInput,
  confirmPassword: PasswordInput,
});
export const SetupInfoReply = z.object({
  tenant: z.object({ slug: z.string(), displayName: z.string() }),
  loginId: z.string(),
  displayName: z.string(),
  mfaRequired: z.boolean(),
  minLength: z.number(),
  maxLength: z.number(),
});
export const SetupCompleteReply = z.object({ next: NextStep, csrfToken: z.string() });

export const Role = z.enum(ROLES);
export const MeReply = z.object({
  user: z.object({ id: z.string(), loginId: z.string(), displayName: z.string(), email: z.string().nullable(), role: Role }),
  tenant: z.object({ slug: z.string(), displayName: z.string() }),
  lastLogin: z.object({ at: z.string(), ip: z.string().nullable(), zone: z.string().nullable() }).nullable(),
  failuresSinceLastLogin: z.number(),
  mfaResetSinceLastLogin: z.boolean(),
  passwordExpiresAt: z.string().nullable(),
  passwordExpiryWarning: z.boolean(),
  mfa: z.object({ totp: z.boolean(), passkeys: z.number(), recoveryCodesLeft: z.number() }),
  session: z.object({ zone: z.string(), expiresAt: z.string(), stepUpValidUntil: z.string().nullable() }),
  csrfToken: z.string(),
  loginBanner: z.string(),
  features: z.record(z.enum(FEATURES), z.boolean()),
  /** Longest expiry of a share or request link (AC-06). */
  maxLinkExpiryDays: z.number().int(),
  /** Whether links that open without a one-time code may be made (the internet zone's public_links, AC-06). */
  publicLinks: z.boolean(),
});
export type MeReply = z.infer<typeof MeReply>;

export const SessionDto = z.object({
  id: z.string(),
  current: z.boolean(),
  zone: z.string(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
});
export const SessionsReply = z.object({ sessions: z.array(SessionDto) });
export const SessionIdParams = z.object({ id: z.string().regex(/^[0-9a-f]{16}$/) });

export const UserDto = z.object({
  id: z.string(),
  loginId: z.string(),
  displayName: z.string(),
  email: z.string().nullable(),
  role: Role,
  state: z.enum(['requested', 'active', 'suspended', 'deleted']),
  locked: z.boolean(),
  mfaEnrolled: z.boolean(),
  lastLoginAt: z.string().nullable(),
  createdAt: z.string(),
  createdBy: z.string().nullable(),
  approvedBy: z.string().nullable(),
  /** Under the two-person rule: the admin whose setup/reset link request for this admin awaits another admin's approval. */
  linkRequestedBy: z.string().nullable(),
});
export type UserDto = z.infer<typeof UserDto>;
export const UsersReply = z.object({ users: z.array(UserDto) });
export const CreateUserBody = z.object({
  loginId: LoginId,
  displayName: z.string().trim().min(1).max(100),
  email: z.email().max(254).optional(),
  role: z.enum(TENANT_ROLES),
});
export const UserIdParams = z.object({ id: z.uuid() });
export const UserActionReply = z.object({ user: UserDto, setupUrl: z.string().optional() });

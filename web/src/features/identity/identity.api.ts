/**
 * Client for the identity API (src/identity/auth.routes.ts): sign-in, second factor, enrolment,
 * password, setup links, step-up, sessions and `GET /api/v1/me`. Replies that start or continue a
 * session carry a CSRF token, which is stored in the API client at once.
 */
import {
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/browser';
import { ApiError, deleteJson, getJson, postJson, setCsrfToken } from '../../api/api-client';

/** Roles inside a tenant, the ones an admin can give (AC-05). */
export const ROLES = ['tenant_admin', 'auditor', 'approver', 'staff', 'guest'] as const;
/** A tenant role, or `operator` (the provider's staff, in the system tenant only). */
export type Role = (typeof ROLES)[number] | 'operator';

/** What the server wants next after a sign-in step. */
export type NextStep = 'done' | 'mfa' | 'mfa_enroll' | 'password_change' | 'terms';
const NEXT_STEPS: readonly NextStep[] = ['done', 'mfa', 'mfa_enroll', 'password_change', 'terms'];

export type Zone = 'lgwan' | 'internet';

export interface Me {
  user: { id: string; loginId: string; displayName: string; email: string | null; role: Role };
  tenant: { slug: string; displayName: string };
  lastLogin: { at: string; ip: string | null; zone: string | null } | null;
  failuresSinceLastLogin: number;
  /** An administrator reset this user's second factors since the previous sign-in. */
  mfaResetSinceLastLogin?: boolean;
  passwordExpiresAt: string | null;
  passwordExpiryWarning: boolean;
  mfa: { totp: boolean; passkeys?: number; recoveryCodesLeft: number };
  session: { zone: string; expiresAt: string; stepUpValidUntil: string | null };
  csrfToken: string;
  loginBanner: string;
  /**
   * The feature switches of the session's zone (LGWAN or internet), as the administrator set them
   * on the policy page; the server refuses a switched-off function whatever the UI shows.
   */
  features?: Partial<Record<Feature, boolean>>;
  /** Links without a one-time code may be made (the tenant allows public links, AC-06). */
  publicLinks?: boolean;
}

/** Functions an administrator can switch off per zone (src/tenants/tenant-settings.ts FEATURES). */
export type Feature =
  'external_sharing' | 'public_links' | 'upload_requests' | 'password_only_links' | 'api_tokens' | 'downloads';

/** Whether a function is on in the session's zone; an older server without `features` leaves everything on. */
export function featureOn(me: Me, feature: Feature): boolean {
  return me.features?.[feature] !== false;
}

export interface TotpEnrollment {
  secret: string;
  otpauthUri: string;
  qrDataUrl: string;
  /** `SHA256`, or the tenant's compatibility choice (see the policy page). */
  algorithm: string;
}

/** The tenant's acceptable-use notice (利用上の注意, HR-03). */
export interface Terms {
  version: number;
  text: string;
}

export interface PasswordCheck {
  ok: boolean;
  reasons: string[];
  minLength: number;
  maxLength: number;
}

export interface SetupInfo {
  tenant: { slug: string; displayName: string };
  loginId: string;
  displayName: string;
  mfaRequired: boolean;
  minLength: number;
  maxLength: number;
}

export interface SessionInfo {
  id: string;
  current: boolean;
  zone: string;
  ip: string | null;
  userAgent: string | null;
  createdAt: string;
  lastSeenAt: string;
}

function record(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) throw new ApiError('unknown', 200);
  return body as Record<string, unknown>;
}

function nextOf(body: unknown): NextStep {
  const next = record(body).next;
  if (typeof next !== 'string' || !(NEXT_STEPS as readonly string[]).includes(next)) throw new ApiError('unknown', 200);
  return next as NextStep;
}

/** Takes the CSRF token of a reply that started a session and returns the next step. */
function startedSession(body: unknown): NextStep {
  const token = record(body).csrfToken;
  if (typeof token !== 'string') throw new ApiError('unknown', 200);
  setCsrfToken(token);
  return nextOf(body);
}

/** The tenant's login banner (AC-12), public so it can be shown before sign-in; empty for unknown tenants. */
export async function fetchLoginBanner(tenant: string, signal?: AbortSignal): Promise<string> {
  const banner = record(await getJson(`/api/v1/auth/banner?tenant=${encodeURIComponent(tenant)}`, signal)).banner;
  return typeof banner === 'string' ? banner : '';
}

export async function login(input: { tenant: string; login: string; password: string }): Promise<NextStep> {
  return startedSession(await postJson('/api/v1/auth/login', input));
}

export async function verifyTotp(code: string): Promise<NextStep> {
  return nextOf(await postJson('/api/v1/auth/mfa/totp', { code }));
}

export async function verifyRecoveryCode(code: string): Promise<NextStep> {
  return nextOf(await postJson('/api/v1/auth/mfa/recovery', { code }));
}

export async function startTotpEnrollment(): Promise<TotpEnrollment> {
  const b = record(await postJson('/api/v1/auth/mfa/totp/enroll'));
  if (typeof b.secret !== 'string' || typeof b.qrDataUrl !== 'string' || !b.qrDataUrl.startsWith('data:image/png;')) {
    throw new ApiError('unknown', 200);
  }
  return b as unknown as TotpEnrollment;
}

export async function confirmTotpEnrollment(code: string): Promise<{ next: NextStep; recoveryCodes: string[] }> {
  const body = await postJson('/api/v1/auth/mfa/totp/confirm', { code });
  const codes = record(body).recoveryCodes;
  if (!Array.isArray(codes) || !codes.every((c) => typeof c === 'string')) throw new ApiError('unknown', 200);
  return { next: nextOf(body), recoveryCodes: codes as string[] };
}

export async function changePassword(input: {
  currentPassword: string;
  newPassword: string;
  confirmPassword: string;
}): Promise<NextStep> {
  return nextOf(await postJson('/api/v1/auth/password', input));
}

export async function checkPassword(password: string, setupToken?: string, signal?: AbortSignal): Promise<PasswordCheck> {
  const b = record(await postJson('/api/v1/auth/password/check', setupToken ? { password, setupToken } : { password }, signal));
  if (typeof b.ok !== 'boolean' || !Array.isArray(b.reasons)) throw new ApiError('unknown', 200);
  return b as unknown as PasswordCheck;
}

export async function inspectSetup(token: string): Promise<SetupInfo> {
  const b = record(await postJson('/api/v1/auth/setup/inspect', { token }));
  if (typeof b.loginId !== 'string' || typeof b.mfaRequired !== 'boolean') throw new ApiError('unknown', 200);
  return b as unknown as SetupInfo;
}

export async function completeSetup(input: { token: string; password: string; confirmPassword: string }): Promise<NextStep> {
  return startedSession(await postJson('/api/v1/auth/setup/complete', input));
}

export async function fetchTerms(): Promise<Terms> {
  const b = record(await getJson('/api/v1/auth/terms'));
  if (typeof b.version !== 'number' || typeof b.text !== 'string') throw new ApiError('unknown', 200);
  return { version: b.version, text: b.text };
}

export async function acceptTerms(version: number): Promise<NextStep> {
  return nextOf(await postJson('/api/v1/auth/terms/accept', { version }));
}

/** Re-verification for sensitive actions: a TOTP code, or the password for users without TOTP. */
export async function stepUp(input: { code: string } | { password: string }): Promise<void> {
  await postJson('/api/v1/auth/step-up', input);
}

/**
 * Ends the session (or every session). Throws when the server did not end it, so that nobody is told
 * they signed out while the session still works; a session that had already ended counts as ended.
 */
export async function logout(everywhere = false): Promise<void> {
  try {
    await postJson(everywhere ? '/api/v1/auth/logout-all' : '/api/v1/auth/logout');
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'auth.unauthenticated')) throw err;
  }
  setCsrfToken(null);
}

export async function fetchMe(): Promise<Me> {
  const b = record(await getJson('/api/v1/me'));
  if (typeof b.csrfToken !== 'string' || typeof b.user !== 'object' || b.user === null) throw new ApiError('unknown', 200);
  setCsrfToken(b.csrfToken);
  return b as unknown as Me;
}

export async function fetchSessions(): Promise<SessionInfo[]> {
  const sessions = record(await getJson('/api/v1/me/sessions')).sessions;
  if (!Array.isArray(sessions)) throw new ApiError('unknown', 200);
  return sessions as SessionInfo[];
}

export async function revokeSession(id: string): Promise<void> {
  await deleteJson(`/api/v1/me/sessions/${encodeURIComponent(id)}`);
}

/** The stage and CSRF token of the current session, in any sign-in stage; null without a session. */
export async function fetchSessionStage(): Promise<{ stage: string; csrfToken: string } | null> {
  try {
    const b = record(await getJson('/api/v1/auth/session'));
    return typeof b.stage === 'string' && typeof b.csrfToken === 'string' ? { stage: b.stage, csrfToken: b.csrfToken } : null;
  } catch {
    return null;
  }
}

/* ---- Passkeys (WebAuthn, AC-09) ---- */

export interface Passkey {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
}

/**
 * Turns what the browser's WebAuthn call threw into an ApiError: `passkey.cancelled` when the user
 * closed the browser's prompt or it timed out, `passkey.unsupported` without WebAuthn, otherwise
 * `passkey.failed` (duplicate authenticator, wrong origin, …).
 */
function passkeyError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const name = err instanceof Error ? ((err as Error & { code?: string }).code ?? err.name) : '';
  if (/NotAllowed|AbortError|ERROR_CEREMONY_ABORTED/.test(name) || (err instanceof Error && err.name === 'NotAllowedError'))
    return new ApiError('passkey.cancelled', null);
  if (/ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED|InvalidStateError/.test(name)) return new ApiError('passkey.duplicate', null);
  if (!browserSupportsWebAuthn()) return new ApiError('passkey.unsupported', null);
  return new ApiError('passkey.failed', null);
}

export function passkeysSupported(): boolean {
  return browserSupportsWebAuthn();
}

/** Registers a passkey on this device; the first second factor also answers the recovery codes. */
export async function registerPasskey(name: string): Promise<{ next: NextStep; recoveryCodes: string[] }> {
  const options = await postJson('/api/v1/auth/webauthn/register/options');
  let credential: RegistrationResponseJSON;
  try {
    credential = await startRegistration({ optionsJSON: options as PublicKeyCredentialCreationOptionsJSON });
  } catch (err) {
    throw passkeyError(err);
  }
  const body = await postJson('/api/v1/auth/webauthn/register/verify', { credential, name });
  const codes = record(body).recoveryCodes;
  if (!Array.isArray(codes) || !codes.every((c) => typeof c === 'string')) throw new ApiError('unknown', 200);
  return { next: nextOf(body), recoveryCodes: codes as string[] };
}

/** Verifies with a passkey: the second sign-in factor, or step-up in a full session. */
export async function authenticateWithPasskey(): Promise<NextStep> {
  const options = await postJson('/api/v1/auth/webauthn/authenticate/options');
  let credential: AuthenticationResponseJSON;
  try {
    credential = await startAuthentication({ optionsJSON: options as PublicKeyCredentialRequestOptionsJSON });
  } catch (err) {
    throw passkeyError(err);
  }
  return nextOf(await postJson('/api/v1/auth/webauthn/authenticate/verify', { credential }));
}

export async function fetchPasskeys(): Promise<Passkey[]> {
  const passkeys = record(await getJson('/api/v1/me/passkeys')).passkeys;
  if (!Array.isArray(passkeys)) throw new ApiError('unknown', 200);
  return passkeys as Passkey[];
}

export async function removePasskey(id: string): Promise<void> {
  await deleteJson(`/api/v1/me/passkeys/${encodeURIComponent(id)}`);
}

/* ---- Personal API tokens (AC-15) ---- */

export const TOKEN_SCOPES = ['me:read', 'users:read', 'files:read', 'files:write', 'audit:read'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  scopes: TokenScope[];
  expiresAt: string;
  createdAt: string;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  revoked: boolean;
}

function tokensOf(body: unknown): ApiToken[] {
  const tokens = record(body).tokens;
  if (!Array.isArray(tokens)) throw new ApiError('unknown', 200);
  return tokens as ApiToken[];
}

export async function fetchMyTokens(): Promise<ApiToken[]> {
  return tokensOf(await getJson('/api/v1/me/tokens'));
}

export async function createToken(input: {
  name: string;
  scopes: TokenScope[];
  expiresInDays?: number;
}): Promise<{ token: string; info: ApiToken }> {
  const b = record(await postJson('/api/v1/me/tokens', input));
  if (typeof b.token !== 'string') throw new ApiError('unknown', 200);
  return b as unknown as { token: string; info: ApiToken };
}

export async function revokeMyToken(id: string): Promise<void> {
  await deleteJson(`/api/v1/me/tokens/${encodeURIComponent(id)}`);
}

export async function fetchAllTokens(): Promise<ApiToken[]> {
  return tokensOf(await getJson('/api/v1/admin/tokens'));
}

export async function revokeAnyToken(id: string): Promise<void> {
  await deleteJson(`/api/v1/admin/tokens/${encodeURIComponent(id)}`);
}

/** Client for tenant-admin user management (src/identity/admin-users.routes.ts; AC-01–AC-05). */
import { ApiError, deleteJson, getJson, postJson } from '../../api/api-client';
import type { Role } from './identity.api';

export type UserState = 'requested' | 'active' | 'suspended' | 'deleted';

export interface AdminUser {
  id: string;
  loginId: string;
  displayName: string;
  email: string | null;
  role: Role;
  state: UserState;
  locked: boolean;
  mfaEnrolled: boolean;
  lastLoginAt: string | null;
  createdAt: string;
  createdBy: string | null;
  approvedBy: string | null;
  /** Two-person rule: the admin whose setup-link request for this admin awaits another admin's approval (AC-01). */
  linkRequestedBy?: string | null;
}

/** Row actions; each is `POST /api/v1/admin/users/:id/<action>` except delete. */
export const USER_ACTIONS = [
  'approve',
  'reject',
  'suspend',
  'reactivate',
  'unlock',
  'reset-mfa',
  'require-password-change',
  'setup-link',
  'delete',
] as const;
export type UserAction = (typeof USER_ACTIONS)[number];

export interface UserActionResult {
  user: AdminUser;
  /**
   * A new one-time setup link (create without two-person rule, approve, setup-link). Absent after
   * setup-link for another admin under the two-person rule: the link waits for a second admin.
   */
  setupUrl?: string;
}

function actionResult(body: unknown): UserActionResult {
  const b = body as { user?: unknown; setupUrl?: unknown } | null;
  if (!b || typeof b.user !== 'object' || b.user === null) throw new ApiError('unknown', 200);
  return {
    user: b.user as AdminUser,
    ...(typeof b.setupUrl === 'string' ? { setupUrl: b.setupUrl } : {}),
  };
}

export async function fetchUsers(): Promise<AdminUser[]> {
  const users = (await getJson('/api/v1/admin/users')) as { users?: unknown } | null;
  if (!users || !Array.isArray(users.users)) throw new ApiError('unknown', 200);
  return users.users as AdminUser[];
}

/** Accounts without a sign-in for the tenant's inactivity period (AC-03). */
export async function fetchInactiveUsers(): Promise<AdminUser[]> {
  const users = (await getJson('/api/v1/admin/users/inactive')) as { users?: unknown } | null;
  if (!users || !Array.isArray(users.users)) throw new ApiError('unknown', 200);
  return users.users as AdminUser[];
}

export async function createUser(input: {
  loginId: string;
  displayName: string;
  email?: string;
  role: Role;
}): Promise<UserActionResult> {
  return actionResult(await postJson('/api/v1/admin/users', input));
}

/** Actions that end a user's ownership of folders: the server wants an heir when they own any (HR-04). */
export const HANDOVER_ACTIONS: ReadonlySet<UserAction> = new Set(['suspend', 'delete']);

/**
 * Runs a row action. For suspend and delete, `reassignTo` names the active user who takes over every
 * folder the user owns, in the same transaction; without it the server answers 409
 * `user.owns_folders` when there are any.
 */
export async function runUserAction(id: string, action: UserAction, reassignTo?: string): Promise<UserActionResult> {
  const path = `/api/v1/admin/users/${encodeURIComponent(id)}`;
  const query = reassignTo && HANDOVER_ACTIONS.has(action) ? `?reassignTo=${encodeURIComponent(reassignTo)}` : '';
  return actionResult(action === 'delete' ? await deleteJson(`${path}${query}`) : await postJson(`${path}/${action}${query}`));
}

/** Who may take over a departing user's folders: other active accounts that are not guests. */
export function heirCandidates(users: readonly AdminUser[], leaving: AdminUser): AdminUser[] {
  return users
    .filter((u) => u.state === 'active' && u.id !== leaving.id && u.role !== 'guest')
    .sort((a, b) => a.loginId.localeCompare(b.loginId));
}

/** The actions that make sense for a user in this state (the server checks again). */
export function actionsFor(user: AdminUser): UserAction[] {
  switch (user.state) {
    case 'requested':
      return ['approve', 'reject'];
    case 'active':
      return [
        // A setup-link request held under the two-person rule; the server refuses the requester (user.self_approval).
        ...(user.linkRequestedBy ? (['approve'] as const) : []),
        ...(user.locked ? (['unlock'] as const) : []),
        'require-password-change',
        ...(user.mfaEnrolled ? (['reset-mfa'] as const) : []),
        'setup-link',
        'suspend',
        'delete',
      ];
    case 'suspended':
      return ['reactivate', 'delete'];
    case 'deleted':
      return [];
  }
}

/** Actions that need a confirmation dialog: they end sessions, remove credentials or cannot be undone. */
export const CONFIRMED_ACTIONS: ReadonlySet<UserAction> = new Set([
  'reject',
  'suspend',
  'reset-mfa',
  'require-password-change',
  'setup-link',
  'delete',
]);

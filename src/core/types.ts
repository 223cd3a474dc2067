/** Shared domain types. Branded ids keep a tenant id from being passed where a user id belongs. */
export type Brand<T, B extends string> = T & { readonly __brand: B };
export type TenantId = Brand<string, 'TenantId'>;

export const ZONES = ['lgwan', 'internet'] as const;
export type Zone = (typeof ZONES)[number];

/** The reserved tenant that owns the provider's own audit events (design §6). */
export const SYSTEM_TENANT_ID = '00000000-0000-0000-0000-000000000000' as TenantId;
export const SYSTEM_TENANT_SLUG = 'system';

export type ActorType = 'user' | 'operator' | 'external' | 'system' | 'anonymous';

/**
 * Who does something and from where. Every audit event takes its actor fields from here (LOG-01:
 * actor and type, source IP, zone, user agent, request id).
 */
export interface Actor {
  readonly type: ActorType;
  readonly id: string | null;
  readonly tenantId: TenantId;
  readonly ip?: string | null;
  readonly zone?: Zone | null;
  readonly userAgent?: string | null;
  readonly requestId?: string | null;
  /**
   * An outside party uploading through a staff member's request link (LG-03) acts on that member's
   * behalf: the folder access, quota and ownership of what they upload are the member's, while the
   * audit trail shows the outside party.
   */
  readonly onBehalfOf?: string | null;
}

/** The user whose folders, quota and ownership an action uses: the user, or the member an outside party acts for. */
export function userIdOf(actor: Actor): string {
  const id = actor.type === 'external' ? actor.onBehalfOf : actor.type === 'user' ? actor.id : null;
  if (!id) throw new Error(`actor ${actor.type} acts for no user`);
  return id;
}

/** The actor for work the service does on its own (jobs, start-up, CLI without a signed-in user). */
export function systemActor(tenantId: TenantId = SYSTEM_TENANT_ID, id = 'kura'): Actor {
  return { type: 'system', id, tenantId };
}

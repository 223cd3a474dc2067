/**
 * Groups (部署・係) of colleagues: tenant admins name them and set their members; folders are then
 * shared with a whole group at once (AC-05). Membership changes are audited.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Actor } from '../core/types.js';
import { randomId } from '../crypto/index.js';
import type { Database } from '../db/database.js';
import type { UserRepository } from './user.repository.js';

export interface GroupServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  users: UserRepository;
}

export interface GroupView {
  id: string;
  name: string;
  memberIds: string[];
  createdAt: string;
}

export class GroupService {
  constructor(private readonly deps: GroupServiceDeps) {}

  async list(tenantId: string): Promise<GroupView[]> {
    const db = this.deps.database.db;
    const groups = await db
      .selectFrom('groups')
      .select(['id', 'name', 'created_at'])
      .where('tenant_id', '=', tenantId)
      .orderBy('name')
      .execute();
    const members = await db
      .selectFrom('group_members')
      .select(['group_id', 'user_id'])
      .where('tenant_id', '=', tenantId)
      .execute();
    return groups.map((g) => ({
      id: g.id,
      name: g.name,
      createdAt: g.created_at,
      memberIds: members.filter((m) => m.group_id === g.id).map((m) => m.user_id),
    }));
  }

  /** Creates a group or replaces an existing group's name and members. */
  async save(actor: Actor, input: { id?: string | undefined; name: string; memberIds: string[] }): Promise<GroupView> {
    const name = input.name.normalize('NFC').trim();
    const memberIds = [...new Set(input.memberIds)];
    for (const id of memberIds) {
      const u = await this.deps.users.findById(actor.tenantId, id);
      if (!u || u.state === 'deleted') throw new AppError('user.not_found');
    }
    const id = input.id ?? randomId();
    await this.deps.database.transaction(async (trx) => {
      const clash = await trx
        .selectFrom('groups')
        .select('id')
        .where('tenant_id', '=', actor.tenantId)
        .where('name', '=', name)
        .executeTakeFirst();
      if (clash && clash.id !== id) throw new AppError('group.name_taken');
      if (input.id) {
        const res = await trx
          .updateTable('groups')
          .set({ name })
          .where('tenant_id', '=', actor.tenantId)
          .where('id', '=', id)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) throw new AppError('group.not_found');
        await trx.deleteFrom('group_members').where('tenant_id', '=', actor.tenantId).where('group_id', '=', id).execute();
      } else {
        await trx
          .insertInto('groups')
          .values({ id, tenant_id: actor.tenantId, name, created_at: this.deps.clock.now().toISOString() })
          .execute();
      }
      if (memberIds.length) {
        await trx
          .insertInto('group_members')
          .values(memberIds.map((user_id) => ({ tenant_id: actor.tenantId, group_id: id, user_id })))
          .execute();
      }
      await this.deps.audit.append(trx, actor, {
        action: input.id ? 'group.updated' : 'group.created',
        target: { type: 'group', id },
        details: { name, members: memberIds },
      });
    });
    return (await this.list(actor.tenantId)).find((g) => g.id === id)!;
  }

  async remove(actor: Actor, id: string): Promise<void> {
    await this.deps.database.transaction(async (trx) => {
      const g = await trx
        .selectFrom('groups')
        .select(['id', 'name'])
        .where('tenant_id', '=', actor.tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (!g) throw new AppError('group.not_found');
      await trx.deleteFrom('group_members').where('tenant_id', '=', actor.tenantId).where('group_id', '=', id).execute();
      await trx
        .deleteFrom('folder_grants')
        .where('tenant_id', '=', actor.tenantId)
        .where('subject_type', '=', 'group')
        .where('subject_id', '=', id)
        .execute();
      await trx.deleteFrom('groups').where('tenant_id', '=', actor.tenantId).where('id', '=', id).execute();
      await this.deps.audit.append(trx, actor, {
        action: 'group.deleted',
        target: { type: 'group', id },
        details: { name: g.name },
      });
    });
  }

  /** Colleagues and groups to share with (active users only; no e-mail addresses). */
  async directory(tenantId: string) {
    const users = (await this.deps.users.list(tenantId)).filter((u) => u.state === 'active' && u.role !== 'operator');
    return {
      users: users.map((u) => ({ id: u.id, loginId: u.loginId, displayName: u.displayName })),
      groups: (await this.list(tenantId)).map((g) => ({ id: g.id, name: g.name })),
    };
  }
}

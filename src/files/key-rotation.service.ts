/**
 * Tenant KEK rotation (ENC-03): a new KEK version becomes active at once (new blobs use it); a job
 * re-wraps every existing DEK under it in batches. Blob bytes never change (the DEK stays the same),
 * and old versions stay readable through their recorded KEK version until the job has moved them.
 */
import type { Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import type { Actor, TenantId } from '../core/types.js';
import { systemActor } from '../core/types.js';
import type { TenantKeyring } from '../crypto/index.js';
import type { Database } from '../db/database.js';
import type { DB } from '../db/schema.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { totpKeyId, type MfaRepository } from '../identity/mfa.repository.js';
import type { FileRepository } from './file.repository.js';
import type { UploadRepository } from './upload.repository.js';
import { AppError } from '../core/errors.js';
import type { TenantKeyRepository } from '../tenants/tenant-key.repository.js';

export const REWRAP_JOB = 'keys.rewrap';
const BATCH = 200;

export interface KeyRotationDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  keyring: TenantKeyring<Transaction<DB>>;
  files: FileRepository;
  mfa: MfaRepository;
  uploads: UploadRepository;
  jobs: JobQueue;
  keys: TenantKeyRepository;
}

/**
 * Clock skew allowed between nodes: a write whose intent is stamped up to this long after the
 * rotation may still have wrapped its key under the old version on a node whose clock is behind.
 */
const SKEW_MS = 5 * 60_000;

export class KeyRotationService {
  constructor(private readonly deps: KeyRotationDeps) {}

  /** Creates the next KEK version and queues the re-wrap; returns the new version. */
  async rotate(actor: Actor, tenantId: TenantId): Promise<number> {
    return this.deps.database.transaction(async (trx) => {
      const version = await this.deps.keyring.createKek(trx, tenantId);
      await this.deps.audit.append(trx, actor, {
        action: 'tenant.key_rotated',
        target: { type: 'tenant', id: tenantId },
        details: { kekVersion: version },
      });
      await this.deps.jobs.enqueue({ kind: REWRAP_JOB, tenantId, payload: { version } }, trx);
      return version;
    });
  }

  /** KEK versions, and how many data keys (blobs) and other wrapped secrets still wait for the re-wrap. */
  async status(tenantId: TenantId) {
    const versions = await this.deps.database.db
      .selectFrom('tenant_keys')
      .select(['version', 'state', 'created_at'])
      .where('tenant_id', '=', tenantId)
      .orderBy('version', 'desc')
      .execute();
    const active = versions.find((v) => v.state === 'active')?.version ?? 0;
    const [blobs, totp, uploads] = await Promise.all([
      this.deps.files.countBlobsWithKekBelow(tenantId, active),
      this.deps.mfa.totpWithKekBelow(tenantId, active),
      this.deps.uploads.openWithKekBelow(tenantId, active),
    ]);
    return {
      activeVersion: active,
      versions: versions.map((v) => ({ version: v.version, state: v.state, createdAt: v.created_at })),
      pendingBlobs: blobs,
      /** TOTP secrets and the data keys of unfinished uploads. */
      pendingSecrets: totp.length + uploads.length,
    };
  }

  /**
   * Destroys a retired KEK version for good (ENC-03, key lifecycle): its wrapped key is erased, so
   * nothing wrapped under it can ever be opened again. Refused while anything still needs it: data
   * keys, TOTP secrets or unfinished uploads under an older version than the active one (the
   * re-wrap has not finished), or blob writes begun before the last rotation that have not yet been
   * recorded (they may have wrapped their key under the old version). The active version cannot be
   * destroyed. Audited in the same transaction; irreversible.
   */
  async destroy(actor: Actor, tenantId: TenantId, version: number): Promise<void> {
    const { database, files, mfa, uploads, keys, audit, keyring } = this.deps;
    await database.transaction(async (trx) => {
      const versions = await trx
        .selectFrom('tenant_keys')
        .select(['version', 'state', 'created_at'])
        .where('tenant_id', '=', tenantId)
        .execute();
      const target = versions.find((v) => v.version === version);
      if (!target) throw new AppError('keys.version_not_found');
      if (target.state === 'active') throw new AppError('keys.version_active');
      if (target.state === 'destroyed') throw new AppError('keys.version_destroyed');
      const active = versions.find((v) => v.state === 'active');
      if (!active) throw new AppError('crypto.key_unavailable');
      const skewed = new Date(Date.parse(active.created_at) + SKEW_MS).toISOString();
      // Writers record a blob in the transaction that ends its intent or its upload session, so the
      // places a key can be on its way from are read before the place it arrives: on PostgreSQL
      // (each statement sees what was committed when it ran) a write committing in between is seen
      // in one or the other.
      const writes = await files.countIntentsBefore(tenantId, skewed, trx);
      const open = await uploads.openWithKekBelow(tenantId, active.version, trx);
      const totp = await mfa.totpWithKekBelow(tenantId, active.version, trx);
      const blobs = await files.countBlobsWithKekBelow(tenantId, active.version, trx);
      const reasons = [
        ...(blobs + totp.length + open.length > 0 ? ['rewrap_pending'] : []),
        ...(writes > 0 ? ['writes_pending'] : []),
      ];
      if (reasons.length > 0) throw new AppError('keys.version_in_use', undefined, reasons);
      if (!(await keys.destroy(trx, tenantId, version))) throw new AppError('keys.version_destroyed');
      await audit.append(trx, actor, {
        action: 'tenant.key_destroyed',
        target: { type: 'tenant', id: tenantId },
        details: { kekVersion: version, activeVersion: active.version },
      });
    });
    keyring.forget(tenantId);
  }

  /**
   * The job: re-wraps everything wrapped under an older KEK with the active one — blob data keys,
   * TOTP secrets, the data keys of unfinished uploads — so that old versions can be retired.
   * Idempotent (each write is conditional on the version it read). A key that fails to unwrap is
   * passed over, counted and audited as an error, never a stop for the rest. Returns how many moved.
   */
  async rewrap(tenantId: TenantId): Promise<number> {
    const { keyring, files, database, audit, mfa, uploads } = this.deps;
    const active = (await this.status(tenantId)).activeVersion;
    let moved = 0;
    const failed: string[] = [];
    const again = async (kekVersion: number, wrapped: Buffer, id: string) => {
      const dek = await keyring.unwrapDek(tenantId, kekVersion, wrapped, id);
      try {
        return await keyring.wrapDek(tenantId, dek, id);
      } finally {
        dek.fill(0);
      }
    };
    let after = '';
    for (;;) {
      const batch = await files.blobsWithKekBelow(tenantId, active, BATCH, after);
      if (batch.length === 0) break;
      after = batch[batch.length - 1]!.id;
      // Keys are unwrapped and wrapped first; the transaction only writes (on SQLite it holds the one connection).
      const rewrapped: Array<{ blob: (typeof batch)[number]; wrapped: { kekVersion: number; wrappedDek: Buffer } }> = [];
      for (const b of batch) {
        try {
          rewrapped.push({ blob: b, wrapped: await again(b.kek_version, b.wrapped_dek, b.id) });
        } catch {
          failed.push(`blob:${b.id}`);
        }
      }
      await database.transaction(async (trx) => {
        for (const { blob, wrapped } of rewrapped) {
          await files.rewrapBlob(tenantId, blob.id, blob.kek_version, wrapped.kekVersion, wrapped.wrappedDek, trx);
        }
      });
      moved += rewrapped.length;
      if (batch.length < BATCH) break;
    }
    for (const t of await mfa.totpWithKekBelow(tenantId, active)) {
      try {
        const wrapped = await again(t.kek_version, Buffer.from(t.secret_wrapped), totpKeyId(t.user_id));
        await database.transaction((trx) => mfa.rewrapTotp(trx, tenantId, t.user_id, t.kek_version, wrapped));
        moved++;
      } catch {
        failed.push(`totp:${t.user_id}`);
      }
    }
    for (const u of await uploads.openWithKekBelow(tenantId, active)) {
      try {
        const wrapped = await again(u.kek_version, u.wrapped_dek, u.blob_id);
        await database.transaction((trx) => uploads.rewrapKey(trx, tenantId, u.id, u.kek_version, wrapped));
        moved++;
      } catch {
        failed.push(`upload:${u.id}`);
      }
    }
    await database.transaction((trx) =>
      audit.append(trx, systemActor(tenantId, 'job:key-rewrap'), {
        action: 'tenant.key_rewrapped',
        target: { type: 'tenant', id: tenantId },
        ...(failed.length ? { outcome: 'error' as const, reason: 'keys.rewrap_failed' } : {}),
        details: {
          kekVersion: active,
          keys: moved,
          ...(failed.length ? { failed: failed.length, firstFailed: failed.slice(0, 20) } : {}),
        },
      }),
    );
    return moved;
  }
}

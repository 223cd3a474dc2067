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
import type { FileRepository } from './file.repository.js';

export const REWRAP_JOB = 'keys.rewrap';
const BATCH = 200;

export interface KeyRotationDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  keyring: TenantKeyring<Transaction<DB>>;
  files: FileRepository;
  jobs: JobQueue;
}

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

  /** KEK versions and how many blobs still wait for the re-wrap. */
  async status(tenantId: TenantId) {
    const versions = await this.deps.database.db
      .selectFrom('tenant_keys')
      .select(['version', 'state', 'created_at'])
      .where('tenant_id', '=', tenantId)
      .orderBy('version', 'desc')
      .execute();
    const active = versions.find((v) => v.state === 'active')?.version ?? 0;
    return {
      activeVersion: active,
      versions: versions.map((v) => ({ version: v.version, state: v.state, createdAt: v.created_at })),
      pendingBlobs: await this.deps.files.countBlobsWithKekBelow(tenantId, active),
    };
  }

  /** The job: re-wraps every DEK under an older KEK with the active one. Idempotent; returns how many moved. */
  async rewrap(tenantId: TenantId): Promise<number> {
    const { keyring, files, database, audit } = this.deps;
    const active = (await this.status(tenantId)).activeVersion;
    let moved = 0;
    for (;;) {
      const batch = await files.blobsWithKekBelow(tenantId, active, BATCH);
      if (batch.length === 0) break;
      // Keys are unwrapped and wrapped first; the transaction only writes (on SQLite it holds the one connection).
      const rewrapped: Array<{ blob: (typeof batch)[number]; wrapped: { kekVersion: number; wrappedDek: Buffer } }> = [];
      for (const b of batch) {
        const dek = await keyring.unwrapDek(tenantId, b.kek_version, b.wrapped_dek, b.id);
        rewrapped.push({ blob: b, wrapped: await keyring.wrapDek(tenantId, dek, b.id) });
        dek.fill(0);
      }
      await database.transaction(async (trx) => {
        for (const { blob, wrapped } of rewrapped) {
          await files.rewrapBlob(tenantId, blob.id, blob.kek_version, wrapped.kekVersion, wrapped.wrappedDek, trx);
        }
      });
      moved += batch.length;
      if (batch.length < BATCH) break;
    }
    await database.transaction((trx) =>
      audit.append(trx, systemActor(tenantId, 'job:key-rewrap'), {
        action: 'tenant.key_rewrapped',
        target: { type: 'tenant', id: tenantId },
        details: { kekVersion: active, blobs: moved },
      }),
    );
    return moved;
  }
}

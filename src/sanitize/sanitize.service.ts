/**
 * The 無害化 stage (MAL-07, MAL-08): for a clean internet-origin version that LGWAN staff will
 * receive, the engine for its type rebuilds it into a second encrypted blob; the version records the
 * result (`sanitised`, `sanitised_with_loss`, `failed`, `blocked`), the rebuilt file's name, size and
 * SHA-256, and the list of what was removed. The original stays as it was (encrypted; on the LGWAN
 * zone only with an approval). Engine failures and unsupported types follow the tenant's policy;
 * storage trouble throws so the job retries.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { systemActor, type TenantId } from '../core/types.js';
import type { Database } from '../db/database.js';
import { isIntegrityFailure, type BlobVault, type StoredBlob } from '../files/blob-vault.js';
import type { Readable } from 'node:stream';
import type { FileRepository } from '../files/file.repository.js';
import type { NotificationRepository } from '../notifications/notification.repository.js';
import type { TenantPolicyService } from '../tenants/tenant-policy.service.js';
import type { MalwareMetrics } from '../monitoring/metrics.js';
import {
  pickSanitizer,
  SanitizeError,
  SanitizeRetry,
  type Sanitizer,
  type SanitizeOutcome,
  type SanitizeSource,
} from './index.js';

export interface SanitizeServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  files: FileRepository;
  vault: BlobVault;
  policy: TenantPolicyService;
  notifications: NotificationRepository;
  engines: Sanitizer[];
  metrics?: MalwareMetrics;
}

/** Storage failed while the rebuilt file was written: retry the job, do not judge the file. */
class SinkError extends Error {
  override name = 'SinkError';
}

export class SanitizeService {
  constructor(private readonly deps: SanitizeServiceDeps) {}

  async sanitizeVersion(tenantId: TenantId, versionId: string): Promise<SanitizeOutcome | null> {
    const { files, vault, database, audit, clock } = this.deps;
    const v = await files.findVersion(tenantId, versionId);
    if (!v || v.state !== 'available' || v.sanitize_state !== 'pending') return null;
    const file = await files.find(tenantId, v.file_id);
    const blob = await files.findBlob(tenantId, v.blob_id);
    if (!file || !blob) return null;
    const settings = (await this.deps.policy.get(tenantId)).malware;
    // A failure to read the original (storage unreachable, a disk error) says nothing about the
    // file: the job retries instead of recording a verdict that nothing could ever re-run. Whatever
    // an engine makes of it, the source's own error is noticed here.
    let sourceFailed: unknown = null;
    const watched = (opening: Promise<Readable>): Promise<Readable> =>
      opening.then(
        (stream) => stream.once('error', (err) => (sourceFailed ??= err)),
        (err: unknown) => {
          sourceFailed ??= err;
          throw err;
        },
      );
    const source: SanitizeSource = {
      name: file.name,
      size: v.size,
      detectedMime: v.detected_type,
      open: () => watched(vault.open(blob)),
      openRange: (start, end) => watched(vault.openRange(blob, start, end)),
      policy: { pdfMode: settings.pdfMode },
    };
    const engine = pickSanitizer(this.deps.engines, source);
    let stored: StoredBlob | null = null;
    let outcome: SanitizeOutcome;
    if (!engine) {
      outcome = {
        result: settings.unsupported === 'block' ? 'blocked' : 'failed',
        engine: 'none',
        reason: '無害化できない形式です / no 無害化 engine handles this file type',
        removed: [],
      };
    } else {
      try {
        outcome = await engine.sanitize(source, async (body) => {
          try {
            // A rebuilt file is about the size of the original; far more means something went wrong.
            stored = await vault.write(tenantId, body, Math.max(2 * v.size, 16 * 1024 * 1024), (id) =>
              files.insertIntent(tenantId, id, clock.now().toISOString()),
            );
          } catch (err) {
            if ((err as Error).name === 'AppError')
              throw new SanitizeError('limit', 'rebuilt file is far larger than the original');
            throw new SinkError((err as Error).message);
          }
        });
      } catch (err) {
        if (stored) await vault.delete(tenantId, (stored as StoredBlob).blobId).catch(() => {});
        if (err instanceof SinkError || err instanceof SanitizeRetry) throw err;
        if (sourceFailed !== null && !isIntegrityFailure(sourceFailed)) {
          throw sourceFailed instanceof Error ? sourceFailed : new Error(String(sourceFailed));
        }
        const e = err instanceof SanitizeError ? err : new SanitizeError('malformed', (err as Error).message);
        outcome = {
          result: e.code === 'encrypted' && settings.encrypted === 'block' ? 'blocked' : 'failed',
          engine: engine.engine,
          reason: e.message.slice(0, 300),
          removed: [],
        };
      }
    }
    this.deps.metrics?.sanitized(outcome.result);
    const at = clock.now().toISOString();
    const actor = systemActor(tenantId, 'job:sanitize');
    const done = stored as StoredBlob | null;
    const ok = outcome.result === 'sanitised' || outcome.result === 'sanitised_with_loss';
    const committed = await database.transaction(async (trx) => {
      const fresh = await files.findVersion(tenantId, versionId, trx);
      if (!fresh || fresh.sanitize_state !== 'pending') return false;
      const report = {
        engine: outcome.engine,
        removed: outcome.removed,
        ...(ok ? {} : { reason: (outcome as { reason: string }).reason }),
      };
      // Conditional on still pending: of two runs (a retried job, a second node) only one records.
      const won = await files.finishSanitize(
        tenantId,
        versionId,
        {
          sanitize_state: outcome.result,
          sanitize_report: JSON.stringify(report),
          sanitized_at: at,
          ...(ok && done
            ? {
                sanitized_blob_id: done.blobId,
                sanitized_size: done.plainSize,
                sanitized_sha256: done.sha256,
                sanitized_name: (outcome as { name: string }).name,
                sanitized_content_type: (outcome as { contentType: string }).contentType,
              }
            : {}),
        },
        trx,
      );
      if (!won) return false;
      if (ok && done) {
        await files.deleteIntent(tenantId, done.blobId, trx);
        await files.insertBlob(
          tenantId,
          {
            id: done.blobId,
            kek_version: done.kekVersion,
            wrapped_dek: done.wrappedDek,
            plain_size: done.plainSize,
            cipher_size: done.cipherSize,
            sha256: done.sha256,
            created_at: at,
            verified_at: null,
            damaged_at: null,
            damage: null,
          },
          trx,
        );
      }
      await audit.append(trx, actor, {
        action: ok ? 'file.sanitised' : outcome.result === 'blocked' ? 'file.sanitise_blocked' : 'file.sanitise_failed',
        target: { type: 'file', id: v.file_id },
        outcome: ok ? 'success' : 'denied',
        ...(ok ? {} : { reason: outcome.result === 'blocked' ? 'malware.sanitise_blocked' : 'malware.sanitise_failed' }),
        details: {
          version: v.version,
          result: outcome.result,
          engine: outcome.engine,
          removed: outcome.removed.map((r) => `${r.kind}×${r.count}`).slice(0, 30),
          ...(ok && done ? { sha256: done.sha256, size: done.plainSize, name: (outcome as { name: string }).name } : {}),
          ...(ok ? {} : { reason: (outcome as { reason: string }).reason }),
        },
      });
      if (!ok || outcome.result === 'sanitised_with_loss')
        await this.deps.notifications.add(
          trx,
          tenantId,
          [v.uploaded_by],
          `file.sanitise_${outcome.result}`,
          { fileId: v.file_id, name: file.name, version: v.version },
          at,
        );
      return true;
    });
    // Someone else finished first (or the version went away): the blob written here is not used.
    if (!committed && done) await vault.delete(tenantId, done.blobId).catch(() => {});
    return outcome;
  }

  /**
   * After the tenant's retention (default 14 days from its 無害化) the original of a sanitised
   * internet-origin version is removed (MAL-07): the version then holds only its sanitised rebuild, on both zones.
   * The original's blob is deleted once nothing else (a copy) uses it. Returns how many were purged.
   */
  async purgeOriginals(tenantId: TenantId, limit = 500): Promise<number> {
    const { files, database, audit, clock, vault } = this.deps;
    const days = (await this.deps.policy.get(tenantId)).malware.originalRetentionDays;
    const now = clock.now();
    const before = new Date(now.getTime() - days * 24 * 3_600_000).toISOString();
    const due = await files.sanitisedOriginalsBefore(tenantId, before, limit);
    let n = 0;
    for (const v of due) {
      const orphaned = await database.transaction(async (trx) => {
        const fresh = await files.findVersion(tenantId, v.id, trx);
        if (!fresh || fresh.blob_id !== v.blob_id || !fresh.sanitized_blob_id) return null;
        await files.updateVersion(
          tenantId,
          v.id,
          {
            blob_id: fresh.sanitized_blob_id,
            size: fresh.sanitized_size!,
            sha256: fresh.sanitized_sha256!,
            content_type: fresh.sanitized_content_type ?? fresh.content_type,
          },
          trx,
        );
        await trx
          .deleteFrom('malware_approvals')
          .where('tenant_id', '=', tenantId)
          .where('version_id', '=', v.id)
          .where('kind', '=', 'original')
          .execute();
        await audit.append(trx, systemActor(tenantId, 'job:purge-originals'), {
          action: 'file.original_purged',
          target: { type: 'file', id: v.file_id },
          details: { version: v.version, originalSha256: v.sha256, sanitisedSha256: fresh.sanitized_sha256, retentionDays: days },
        });
        return files.dropUnused(tenantId, [v.blob_id], trx);
      });
      if (orphaned === null) continue;
      n++;
      for (const b of orphaned) await vault.delete(tenantId, b).catch(() => {});
    }
    return n;
  }
}

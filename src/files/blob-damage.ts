/**
 * A blob found damaged (TLS-02: a segment failing authentication, a size or SHA-256 not as recorded,
 * or missing): the verdict reaches every version that uses it — as its original (`damaged`, never
 * served again) or as its sanitised rebuild (`sanitize_state = failed`, the rebuild is not served) —
 * with one `file.integrity_failed` fault event each, in the caller's transaction. Copies and
 * restore points share blobs, so marking only the version that was read would leave the others
 * listed as available.
 */
import type { AuditLog } from '../audit/audit-log.js';
import { systemActor, type TenantId } from '../core/types.js';
import type { Transaction } from 'kysely';
import type { DB } from '../db/schema.js';
import type { FileRepository } from './file.repository.js';

export async function recordBlobDamage(
  deps: { files: FileRepository; audit: AuditLog },
  trx: Transaction<DB>,
  tenantId: string,
  blobId: string,
  at: string,
  reason: string,
  detectedBy: string,
): Promise<number> {
  const why = reason.slice(0, 200);
  await deps.files.markBlob(tenantId, blobId, { damaged_at: at, damage: why }, trx);
  const versions = await deps.files.versionsUsingBlob(tenantId, blobId, trx);
  for (const v of versions) {
    const sanitised = v.blob_id !== blobId;
    await deps.files.updateVersion(tenantId, v.id, sanitised ? { sanitize_state: 'failed' } : { state: 'damaged' }, trx);
    await deps.audit.append(trx, systemActor(tenantId as TenantId, detectedBy === 'scrubber' ? 'job:scrubber' : undefined), {
      action: 'file.integrity_failed',
      target: { type: 'file', id: v.file_id },
      outcome: 'error',
      reason: 'file.integrity_failed',
      details: { version: v.version, blobId, sanitised, reason: why, detectedBy },
    });
  }
  return versions.length;
}

/**
 * The integrity scrubber (issue 4 §8, TLS-02): a scheduled job re-reads blobs, least recently
 * verified first, decrypting every segment (authentication) and comparing size and SHA-256 with the
 * record. A damaged or missing blob marks its versions `damaged` (never served again) and raises a
 * fault event per tenant.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { systemActor, type TenantId } from '../core/types.js';
import type { Database } from '../db/database.js';
import type { BlobVault } from './blob-vault.js';
import { recordBlobDamage } from './blob-damage.js';
import type { FileRepository } from './file.repository.js';

/** Bytes one run reads at most (a run every hour re-reads ~24 GiB a day). */
export const SCRUB_BYTES_PER_RUN = 1024 * 1024 * 1024;
export const SCRUB_BLOBS_PER_RUN = 500;

export interface ScrubberDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  files: FileRepository;
  vault: BlobVault;
}

export class Scrubber {
  constructor(private readonly deps: ScrubberDeps) {}

  /** One pass over the least recently verified blobs; returns what it checked and found damaged. */
  async run(budgetBytes = SCRUB_BYTES_PER_RUN): Promise<{ checked: number; damaged: number; unreadable: number }> {
    const { files, vault, database, audit, clock } = this.deps;
    let checked = 0;
    let damaged = 0;
    let unreadable = 0;
    let bytes = 0;
    for (const blob of await files.blobsToScrub(SCRUB_BLOBS_PER_RUN)) {
      if (bytes > 0 && bytes + blob.cipher_size > budgetBytes) break;
      bytes += blob.cipher_size;
      checked++;
      const result = await vault.verify(blob);
      const at = clock.now().toISOString();
      await database.transaction(async (trx) => {
        if (result.ok) {
          await files.markBlob(blob.tenant_id, blob.id, { verified_at: at }, trx);
          return;
        }
        // Damage marks the versions for good; a store that failed to read it (I/O, network) is a fault
        // to look into, not damage, and the blob is checked again on the next run.
        if (!result.unreadable) {
          damaged++;
          await recordBlobDamage(this.deps, trx, blob.tenant_id, blob.id, at, result.reason, 'scrubber');
          return;
        }
        unreadable++;
        for (const v of await files.versionsUsingBlob(blob.tenant_id, blob.id, trx)) {
          await audit.append(trx, systemActor(blob.tenant_id as TenantId, 'job:scrubber'), {
            action: 'file.blob_unreadable',
            target: { type: 'file', id: v.file_id },
            outcome: 'error',
            reason: 'service.unavailable',
            details: { version: v.version, blobId: blob.id, reason: result.reason.slice(0, 200), detectedBy: 'scrubber' },
          });
        }
      });
    }
    return { checked, damaged, unreadable };
  }
}

/** Runs the verifier over the live database and the external checkpoint store (`kura audit verify`). */
import type { AuditRepository, CheckpointRow } from './audit.repository.js';
import type { SignedCheckpoint } from './chain.js';
import { CHAIN_VERSION } from './chain.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { verifyTenantChain, type VerifyResult } from './verify.js';

export interface AuditVerifyDeps {
  audit: AuditRepository;
  store: CheckpointStore;
  macKey: Buffer;
  publicKeys: () => Promise<Array<{ keyId: string; publicKey: string }>>;
}

export class AuditVerifyService {
  constructor(private readonly deps: AuditVerifyDeps) {}

  /** Checkpoint signing keys by id: the store's, and the database's where the store lacks one. */
  async publicKeys(): Promise<Map<string, string>> {
    const keys = await this.deps.store.publicKeys();
    for (const k of await this.deps.publicKeys()) if (!keys.has(k.keyId)) keys.set(k.keyId, k.publicKey);
    return keys;
  }

  /**
   * Safe to run on a live system. The reads are ordered so that nothing written meanwhile looks like
   * tampering: the database's checkpoints, then the store's (a checkpoint is written to the store
   * first, so every one the database has is there; one the store has alone may be being recorded,
   * so the database is read again), then the head (every checkpoint read covers at most it), then
   * the entries, which may have grown past the head meanwhile. Anything that stops the check (an unreadable checkpoint file) is a failed result
   * for this tenant, not an error that skips the others.
   */
  async verifyTenant(tenantId: string): Promise<VerifyResult> {
    const { audit, store, macKey } = this.deps;
    try {
      const keys = await this.publicKeys();
      let dbCheckpoints = (await audit.checkpoints(tenantId)).map(fromRow);
      const storeCheckpoints = await store.list(tenantId);
      // One in the store only may be a checkpoint being recorded right now: look again, briefly.
      for (let i = 0; i < 3 && storeCheckpoints.some((cp) => !dbCheckpoints.some((d) => d.no === cp.no)); i++) {
        await new Promise((r) => setTimeout(r, 200));
        dbCheckpoints = (await audit.checkpoints(tenantId)).map(fromRow);
      }
      const head = await audit.head(tenantId);
      return await verifyTenantChain({
        tenantId,
        events: audit.events(tenantId),
        dbCheckpoints,
        storeCheckpoints,
        publicKeys: keys,
        macKey,
        head: head ? { seq: head.seq, entryHash: head.entryHash } : null,
      });
    } catch (err) {
      return {
        tenantId,
        ok: false,
        events: 0,
        checkpoints: 0,
        lastCheckpointSize: 0,
        firstBadSeq: null,
        problems: [`the check could not run: ${(err as Error).message}`],
      };
    }
  }
}

export function fromRow(r: CheckpointRow): SignedCheckpoint {
  return {
    v: CHAIN_VERSION,
    tenantId: r.tenant_id,
    no: Number(r.no),
    size: Number(r.size),
    rootHash: r.root_hash,
    checkpointedAt: r.checkpointed_at,
    keyId: r.key_id,
    signature: r.signature,
  };
}

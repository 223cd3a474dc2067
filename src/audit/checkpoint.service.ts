/**
 * Signed checkpoints (LOG-02): every 5 minutes, also when nothing happened, each tenant's chain
 * size and Merkle root are signed with the service key and written first to the external
 * checkpoint store, then to the database.
 */
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import type { SigningKey } from '../crypto/signing.js';
import { AppError } from '../core/errors.js';
import { parseFrontier } from './audit-log.js';
import type { AuditRepository } from './audit.repository.js';
import { CHAIN_VERSION, checkpointSigningInput, frontierRoot, type SignedCheckpoint } from './chain.js';
import type { CheckpointStore } from './checkpoint-store.js';

export const CHECKPOINT_INTERVAL_MS = 5 * 60 * 1000;

export interface CheckpointServiceDeps {
  database: Database;
  audit: AuditRepository;
  store: CheckpointStore;
  signing: SigningKey;
  clock: Clock;
  tenantIds: () => Promise<string[]>;
}

export class CheckpointService {
  constructor(private readonly deps: CheckpointServiceDeps) {}

  async checkpointTenant(tenantId: string): Promise<SignedCheckpoint> {
    const { audit, store, signing, clock, database } = this.deps;
    const head = await audit.head(tenantId);
    if (!head) throw new AppError('audit.chain_broken', `no audit head for tenant ${tenantId}`);
    const last = await audit.lastCheckpoint(tenantId);
    if (last && last.size > head.seq) {
      throw new AppError('audit.chain_broken', `chain of ${tenantId} is shorter than its last checkpoint`);
    }
    const body = {
      v: CHAIN_VERSION,
      tenantId,
      no: (last?.no ?? 0) + 1,
      size: head.seq,
      rootHash: frontierRoot(parseFrontier(head.frontier)).toString('hex'),
      checkpointedAt: clock.now().toISOString(),
      keyId: signing.keyId,
    };
    const cp: SignedCheckpoint = { ...body, signature: signing.sign(checkpointSigningInput(body)) };
    await store.writePublicKey(signing.keyId, signing.publicKeyPem);
    await store.write(cp);
    await audit.insertCheckpoint(database.db, {
      tenant_id: tenantId,
      no: cp.no,
      size: cp.size,
      root_hash: cp.rootHash,
      checkpointed_at: cp.checkpointedAt,
      key_id: cp.keyId,
      signature: cp.signature,
    });
    return cp;
  }

  /** Checkpoints every tenant, the system tenant included; returns how many were written. */
  async checkpointAll(): Promise<number> {
    let n = 0;
    for (const id of await this.deps.tenantIds()) {
      await this.checkpointTenant(id);
      n++;
    }
    return n;
  }
}

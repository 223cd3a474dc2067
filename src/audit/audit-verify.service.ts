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

  async verifyTenant(tenantId: string): Promise<VerifyResult> {
    const { audit, store, macKey } = this.deps;
    const keys = await store.publicKeys();
    for (const k of await this.deps.publicKeys()) if (!keys.has(k.keyId)) keys.set(k.keyId, k.publicKey);
    const head = await audit.head(tenantId);
    return verifyTenantChain({
      tenantId,
      events: audit.events(tenantId),
      dbCheckpoints: (await audit.checkpoints(tenantId)).map(fromRow),
      storeCheckpoints: await store.list(tenantId),
      publicKeys: keys,
      macKey,
      head: head ? { seq: head.seq, entryHash: head.entryHash } : undefined,
    });
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

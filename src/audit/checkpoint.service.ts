/**
 * Signed checkpoints (LOG-02): every 5 minutes, also when nothing happened, each tenant's chain
 * size and Merkle root are signed with the service key and written first to the external
 * checkpoint store, then to the database.
 *
 * A run that dies, or whose insert fails, between the two leaves a store entry without its row, and
 * the store never lets that number be written again. The next run adopts such a leftover when it is
 * exactly what this service would have written (this tenant, the next number, nothing after it in
 * the store, a known key's valid signature, and the Merkle root of the database's chain at its
 * size), then writes the checkpoint it came for. Anything else under that number is an integrity
 * alarm: an `audit.checkpoint_rejected` fault event and `audit.chain_broken`; the store entry is
 * never overwritten nor adopted.
 */
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import { verifySignature, type SigningKey } from '../crypto/signing.js';
import { AppError } from '../core/errors.js';
import { systemActor, type TenantId } from '../core/types.js';
import { parseFrontier, type AuditLog } from './audit-log.js';
import type { AuditHead, AuditRepository, CheckpointRow } from './audit.repository.js';
import { fromRow } from './audit-verify.service.js';
import {
  CHAIN_VERSION,
  checkpointSigningInput,
  frontierPush,
  frontierRoot,
  type Frontier,
  type SignedCheckpoint,
} from './chain.js';
import type { CheckpointStore } from './checkpoint-store.js';

export const CHECKPOINT_INTERVAL_MS = 5 * 60 * 1000;
export const CHECKPOINT_REJECTED = 'audit.checkpoint_rejected';
/** A run adopts at most this many leftovers before giving up (more means concurrent runs, or worse). */
const MAX_WRITE_ATTEMPTS = 3;

export interface CheckpointServiceDeps {
  database: Database;
  audit: AuditRepository;
  store: CheckpointStore;
  signing: SigningKey;
  clock: Clock;
  tenantIds: () => Promise<string[]>;
  /** Where integrity alarms go (the tenant's own chain); without it a rejected checkpoint only fails the run. */
  events?: AuditLog;
}

export class CheckpointService {
  constructor(private readonly deps: CheckpointServiceDeps) {}

  async checkpointTenant(tenantId: string): Promise<SignedCheckpoint> {
    const { audit, store, signing, clock, database } = this.deps;
    for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
      const head = await audit.head(tenantId);
      if (!head) throw new AppError('audit.chain_broken', `no audit head for tenant ${tenantId}`);
      const last = await audit.lastCheckpoint(tenantId);
      if (last && Number(last.size) > head.seq) {
        throw new AppError('audit.chain_broken', `chain of ${tenantId} is shorter than its last checkpoint`);
      }
      const body = {
        v: CHAIN_VERSION,
        tenantId,
        no: Number(last?.no ?? 0) + 1,
        size: head.seq,
        rootHash: frontierRoot(parseFrontier(head.frontier)).toString('hex'),
        checkpointedAt: clock.now().toISOString(),
        keyId: signing.keyId,
      };
      const cp: SignedCheckpoint = { ...body, signature: signing.sign(checkpointSigningInput(body)) };
      await store.writePublicKey(signing.keyId, signing.publicKeyPem);
      if (await store.write(cp)) {
        await audit.insertCheckpoint(database.db, toRow(cp));
        return cp;
      }
      await this.adoptLeftover(tenantId, cp.no);
    }
    throw new Error(`checkpoint store of ${tenantId} kept holding the next number (concurrent checkpoint runs?)`);
  }

  /**
   * Checkpoints every tenant, the system tenant included; returns how many were written. One
   * tenant's failure does not keep the others from theirs; the run still fails at the end, naming
   * them, so the job is retried and its failure recorded.
   */
  async checkpointAll(): Promise<number> {
    let n = 0;
    const failures: Array<{ tenantId: string; error: unknown }> = [];
    for (const tenantId of await this.deps.tenantIds()) {
      try {
        await this.checkpointTenant(tenantId);
        n++;
      } catch (error) {
        failures.push({ tenantId, error });
      }
    }
    if (failures.length) {
      const each = failures.map((f) => `${f.tenantId}: ${f.error instanceof Error ? f.error.message : String(f.error)}`);
      throw new AggregateError(
        failures.map((f) => f.error),
        `checkpoints failed for ${failures.length} tenant(s) (${n} written): ${each.join('; ')}`,
      );
    }
    return n;
  }

  /**
   * The store already holds checkpoint `no` of the tenant: inserts it into the database when it is a
   * leftover this service wrote, otherwise raises the alarm and throws `audit.chain_broken`.
   */
  private async adoptLeftover(tenantId: string, no: number): Promise<void> {
    const { audit, store, database } = this.deps;
    let stored: SignedCheckpoint | null = null;
    let unreadable = false;
    try {
      stored = await store.read(tenantId, no);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      unreadable = true;
    }
    // Read again: a concurrent run (the CLI and the job) may have inserted it, or the chain grown.
    const [head, last] = await Promise.all([audit.head(tenantId), audit.lastCheckpoint(tenantId)]);
    if (!head) throw new AppError('audit.chain_broken', `no audit head for tenant ${tenantId}`);
    if (!stored) return this.reject(tenantId, no, unreadable ? 'is not valid JSON' : 'cannot be read');
    if (last && Number(last.no) >= no) {
      // Only the run whose store write succeeded inserts a row, so a row under this number must be the stored one.
      if (Number(last.no) === no && sameCheckpoint(fromRow(last), stored)) return;
      return this.reject(tenantId, no, 'differs from the checkpoint the database holds under its number');
    }
    const problem = await this.leftoverProblem(tenantId, no, stored, last, head);
    if (problem) return this.reject(tenantId, no, problem);
    await audit.insertCheckpoint(database.db, toRow(stored));
  }

  /** Why a stored checkpoint is not the one this service would have written as `no`; null when it is. */
  private async leftoverProblem(
    tenantId: string,
    no: number,
    cp: SignedCheckpoint,
    last: CheckpointRow | undefined,
    head: AuditHead,
  ): Promise<string | null> {
    const { store, signing } = this.deps;
    if (cp.tenantId !== tenantId) return 'names another tenant';
    if (cp.v !== CHAIN_VERSION || cp.no !== no || !Number.isSafeInteger(cp.size) || typeof cp.rootHash !== 'string') {
      return 'is malformed';
    }
    // A crash leaves only the newest entry without its row; later ones mean rows were removed.
    if (await hasEntry(store, tenantId, no + 1)) return 'is followed by later checkpoints missing from the database';
    const keys = await store.publicKeys();
    keys.set(signing.keyId, signing.publicKeyPem);
    const pem = keys.get(cp.keyId);
    if (!pem) return `is signed by unknown key ${cp.keyId}`;
    if (typeof cp.signature !== 'string' || !verifySignature(pem, checkpointSigningInput(cp), cp.signature)) {
      return 'has an invalid signature';
    }
    if (last && cp.size < Number(last.size)) return `does not extend checkpoint ${no - 1}`;
    if (last && cp.checkpointedAt < last.checkpointed_at) return `is dated before checkpoint ${no - 1}`;
    if (cp.size > head.seq) return `covers ${cp.size} entries but the chain has ${head.seq}`;
    if ((await this.rootAt(tenantId, cp.size, head)) !== cp.rootHash) {
      return `does not match the chain's Merkle root at size ${cp.size}`;
    }
    return null;
  }

  /** The Merkle root of the tenant's chain as the database holds it, at `size` entries. */
  private async rootAt(tenantId: string, size: number, head: AuditHead): Promise<string> {
    if (size === head.seq) return frontierRoot(parseFrontier(head.frontier)).toString('hex');
    let frontier: Frontier = [];
    for await (const row of this.deps.audit.events(tenantId)) {
      if (Number(row.seq) > size) break;
      frontier = frontierPush(frontier, Buffer.from(row.entry_hash, 'hex'));
    }
    return frontierRoot(frontier).toString('hex');
  }

  /**
   * The integrity alarm (LOG-01 fault event, LOG-02): recorded in the tenant's chain, once while
   * nothing else happens there (the job retries and runs every 5 minutes), then thrown.
   */
  private async reject(tenantId: string, no: number, problem: string): Promise<never> {
    const { events, audit, database } = this.deps;
    if (events) {
      const [latest] = await audit.latestEvents(tenantId, 1);
      const raised = latest?.action === CHECKPOINT_REJECTED && (JSON.parse(latest.details) as { no?: unknown }).no === no;
      if (!raised) {
        await database.transaction((trx) =>
          events.append(trx, systemActor(tenantId as TenantId, 'job:checkpoint'), {
            action: CHECKPOINT_REJECTED,
            target: { type: 'checkpoint', id: String(no) },
            outcome: 'error',
            reason: 'audit.chain_broken',
            details: { no, problem, store: this.deps.store.description },
          }),
        );
      }
    }
    throw new AppError('audit.chain_broken', `checkpoint ${no} of ${tenantId} in the checkpoint store ${problem}`);
  }
}

function toRow(cp: SignedCheckpoint): CheckpointRow {
  return {
    tenant_id: cp.tenantId,
    no: cp.no,
    size: cp.size,
    root_hash: cp.rootHash,
    checkpointed_at: cp.checkpointedAt,
    key_id: cp.keyId,
    signature: cp.signature,
  };
}

function sameCheckpoint(a: SignedCheckpoint, b: SignedCheckpoint): boolean {
  return checkpointSigningInput(a) === checkpointSigningInput(b) && a.signature === b.signature;
}

/** Whether the store holds anything under that number, readable or not. */
async function hasEntry(store: CheckpointStore, tenantId: string, no: number): Promise<boolean> {
  try {
    return (await store.read(tenantId, no)) !== null;
  } catch (err) {
    if (err instanceof SyntaxError) return true;
    throw err;
  }
}

/**
 * The audit verifier (LOG-02), used by `kura audit verify` and by tenants offline on an export:
 * recomputes every entry hash and the chain links, checks entry MACs when the key is at hand,
 * recomputes the Merkle root at every checkpoint, checks checkpoint signatures and that each
 * checkpoint extends the previous one. It reports the first bad `seq` it can name.
 */
import type { AuditRow } from './audit.repository.js';
import { verifySignature } from '../crypto/signing.js';
import {
  GENESIS_HASH,
  checkpointSigningInput,
  entryHash,
  frontierPush,
  frontierRoot,
  macMatches,
  type Frontier,
  type SignedCheckpoint,
} from './chain.js';

export interface VerifyInput {
  tenantId: string;
  events: AsyncIterable<AuditRow> | Iterable<AuditRow>;
  /** Checkpoints from the database. */
  dbCheckpoints: SignedCheckpoint[];
  /** Checkpoints from the external store; null when verifying an export with only one set. */
  storeCheckpoints: SignedCheckpoint[] | null;
  publicKeys: Map<string, string>;
  macKey?: Buffer | undefined;
  /**
   * The live chain's head, read before the entries: every entry up to it must be there and end in
   * its hash; entries after it (appended while the check runs) must chain on like any other. null:
   * the database has no head row, which a chain with entries must have. Absent: an export.
   */
  head?: { seq: number; entryHash: string } | null | undefined;
}

export interface VerifyResult {
  tenantId: string;
  ok: boolean;
  events: number;
  checkpoints: number;
  lastCheckpointSize: number;
  /** The first sequence number known to be bad, or null. */
  firstBadSeq: number | null;
  problems: string[];
}

export async function verifyTenantChain(input: VerifyInput): Promise<VerifyResult> {
  const problems: string[] = [];
  let firstBad: number | null = null;
  const bad = (seq: number, problem: string) => {
    problems.push(problem);
    if (firstBad === null || seq < firstBad) firstBad = seq;
  };

  const checkpoints = mergeCheckpoints(input, problems);
  for (const cp of checkpoints) {
    const pem = input.publicKeys.get(cp.keyId);
    if (cp.tenantId !== input.tenantId) problems.push(`checkpoint ${cp.no} names another tenant`);
    if (!pem) problems.push(`checkpoint ${cp.no} is signed by unknown key ${cp.keyId}`);
    else if (!verifySignature(pem, checkpointSigningInput(cp), cp.signature)) {
      problems.push(`checkpoint ${cp.no} has an invalid signature`);
    }
  }
  for (let i = 1; i < checkpoints.length; i++) {
    const [a, b] = [checkpoints[i - 1]!, checkpoints[i]!];
    if (b.no !== a.no + 1) problems.push(`checkpoints ${a.no + 1}..${b.no - 1} are missing`);
    if (b.size < a.size) problems.push(`checkpoint ${b.no} (size ${b.size}) does not extend checkpoint ${a.no} (size ${a.size})`);
    if (b.checkpointedAt < a.checkpointedAt) problems.push(`checkpoint ${b.no} is dated before checkpoint ${a.no}`);
  }
  if (checkpoints.length > 0 && checkpoints[0]!.no !== 1) problems.push(`checkpoints 1..${checkpoints[0]!.no - 1} are missing`);

  const bySize = [...checkpoints].sort((a, b) => a.size - b.size || a.no - b.no);
  let cpIdx = 0;
  let lastGoodSize = 0;
  const checkRootsAt = (size: number, frontier: Frontier) => {
    while (cpIdx < bySize.length && bySize[cpIdx]!.size === size) {
      const cp = bySize[cpIdx++]!;
      if (frontierRoot(frontier).toString('hex') !== cp.rootHash) {
        bad(
          lastGoodSize + 1,
          `Merkle root at size ${size} differs from checkpoint ${cp.no}: entries ${lastGoodSize + 1}..${size} were changed`,
        );
      } else {
        lastGoodSize = Math.max(lastGoodSize, size);
      }
    }
  };

  let expected = 1;
  let prev = GENESIS_HASH;
  let atHead = GENESIS_HASH;
  let frontier: Frontier = [];
  checkRootsAt(0, frontier);
  for await (const row of input.events) {
    const seq = Number(row.seq);
    if (row.tenant_id !== input.tenantId) {
      bad(seq, `entry ${seq} belongs to another tenant`);
      break;
    }
    if (seq !== expected) {
      bad(
        Math.min(seq, expected),
        seq > expected ? `entries ${expected}..${seq - 1} are missing` : `entry ${seq} is out of order`,
      );
      break;
    }
    let details: Record<string, unknown>;
    try {
      details = JSON.parse(row.details) as Record<string, unknown>;
    } catch {
      bad(seq, `entry ${seq} has unreadable details`);
      break;
    }
    const recomputed = entryHash({ ...row, seq, details });
    if (recomputed !== row.entry_hash) {
      bad(seq, `entry ${seq} does not match its hash (edited)`);
      break;
    }
    if (row.prev_hash !== prev) {
      bad(seq, `entry ${seq} does not link to entry ${seq - 1}`);
      break;
    }
    if (input.macKey && !macMatches(input.macKey, row.entry_hash, row.entry_mac)) {
      bad(seq, `entry ${seq} has an invalid seal (rewritten without the service key)`);
      break;
    }
    frontier = frontierPush(frontier, Buffer.from(row.entry_hash, 'hex'));
    prev = row.entry_hash;
    if (input.head && seq === input.head.seq) atHead = row.entry_hash;
    checkRootsAt(seq, frontier);
    expected++;
  }
  const length = expected - 1;
  if (firstBad === null) {
    for (; cpIdx < bySize.length; cpIdx++) {
      const cp = bySize[cpIdx]!;
      if (cp.size > length)
        bad(length + 1, `checkpoint ${cp.no} covers ${cp.size} entries but the chain has ${length} (truncated)`);
    }
    if (input.head && (input.head.seq > length || (input.head.seq > 0 && input.head.entryHash !== atHead))) {
      bad(Math.min(input.head.seq, length) + 1, `chain head says ${input.head.seq} entries but the chain has ${length}`);
    }
    if (input.head === null && length > 0) bad(1, `the chain has ${length} entries but no head record`);
  }
  return {
    tenantId: input.tenantId,
    ok: problems.length === 0,
    events: length,
    checkpoints: checkpoints.length,
    lastCheckpointSize: checkpoints.length ? checkpoints[checkpoints.length - 1]!.size : 0,
    firstBadSeq: firstBad,
    problems,
  };
}

/** Union of database and store checkpoints by number; a difference or a one-sided entry is a problem. */
function mergeCheckpoints(input: VerifyInput, problems: string[]): SignedCheckpoint[] {
  const byNo = new Map<number, SignedCheckpoint>();
  for (const cp of input.dbCheckpoints) byNo.set(cp.no, cp);
  if (input.storeCheckpoints) {
    const storeNos = new Set<number>();
    for (const cp of input.storeCheckpoints) {
      storeNos.add(cp.no);
      const inDb = byNo.get(cp.no);
      if (!inDb) {
        problems.push(`checkpoint ${cp.no} is in the checkpoint store but missing from the database`);
        byNo.set(cp.no, cp);
      } else if (checkpointSigningInput(inDb) !== checkpointSigningInput(cp) || inDb.signature !== cp.signature) {
        problems.push(`checkpoint ${cp.no} differs between the database and the checkpoint store`);
        byNo.set(cp.no, cp);
      }
    }
    for (const cp of input.dbCheckpoints) {
      if (!storeNos.has(cp.no)) problems.push(`checkpoint ${cp.no} is in the database but missing from the checkpoint store`);
    }
  }
  return [...byNo.values()].sort((a, b) => a.no - b.no);
}

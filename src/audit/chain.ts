/**
 * Pure audit-chain arithmetic (design §6), shared by the writer, `kura audit verify` and the
 * offline verifier: RFC 8785 canonical JSON of each entry, entry hashes that are RFC 6962 Merkle
 * leaves (SHA-256 of 0x00 ‖ canonical JSON), HMAC seals, and an incremental Merkle frontier.
 */
import canonicalize from 'canonicalize';
import { constantTimeEqual, hmacSha256, sha256 } from '../crypto/primitives.js';

export const GENESIS_HASH = '0'.repeat(64);
export const CHAIN_VERSION = 1;

/** The fields of an entry that its hash covers; `details` is a JSON object. */
export interface ChainEntry {
  tenant_id: string;
  seq: number;
  occurred_at: string;
  actor_type: string;
  actor_id: string | null;
  ip: string | null;
  zone: string | null;
  user_agent: string | null;
  request_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  reason: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
}

export function canonicalEntry(e: ChainEntry): string {
  const text = canonicalize({
    v: CHAIN_VERSION,
    tenant_id: e.tenant_id,
    seq: e.seq,
    occurred_at: e.occurred_at,
    actor_type: e.actor_type,
    actor_id: e.actor_id,
    ip: e.ip,
    zone: e.zone,
    user_agent: e.user_agent,
    request_id: e.request_id,
    action: e.action,
    target_type: e.target_type,
    target_id: e.target_id,
    outcome: e.outcome,
    reason: e.reason,
    details: e.details,
    prev_hash: e.prev_hash,
  });
  if (text === undefined) throw new Error('audit entry cannot be canonicalised');
  return text;
}

/** SHA-256(0x00 ‖ data): an RFC 6962 leaf hash. */
export function leafHash(data: Buffer | string): Buffer {
  return sha256(Buffer.concat([Buffer.from([0]), typeof data === 'string' ? Buffer.from(data, 'utf8') : data]));
}

/** SHA-256(0x01 ‖ left ‖ right): an RFC 6962 interior node. */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return sha256(Buffer.concat([Buffer.from([1]), left, right]));
}

export function entryHash(e: ChainEntry): string {
  return leafHash(canonicalEntry(e)).toString('hex');
}

/** HMAC seal of an entry hash with the service's audit MAC key. */
export function entryMac(macKey: Buffer, entryHashHex: string): string {
  return hmacSha256(macKey, `kura-audit-mac-v1|${entryHashHex}`).toString('hex');
}

export function macMatches(macKey: Buffer, entryHashHex: string, macHex: string): boolean {
  return constantTimeEqual(Buffer.from(entryMac(macKey, entryHashHex), 'hex'), Buffer.from(macHex, 'hex'));
}

/**
 * Compact Merkle frontier: the roots of the perfect subtrees of an RFC 6962 tree, largest first.
 * Appending is O(log n) and the root of the tree so far is a right-to-left fold of the frontier.
 */
export type Frontier = Array<{ size: number; hash: Buffer }>;

export function frontierPush(frontier: Frontier, leaf: Buffer): Frontier {
  const f = [...frontier, { size: 1, hash: leaf }];
  while (f.length >= 2 && f[f.length - 1]!.size === f[f.length - 2]!.size) {
    const right = f.pop()!;
    const left = f.pop()!;
    f.push({ size: left.size * 2, hash: nodeHash(left.hash, right.hash) });
  }
  return f;
}

/** Root of the tree described by the frontier; the empty tree's root is SHA-256 of nothing. */
export function frontierRoot(frontier: Frontier): Buffer {
  if (frontier.length === 0) return sha256(Buffer.alloc(0));
  let h = frontier[frontier.length - 1]!.hash;
  for (let i = frontier.length - 2; i >= 0; i--) h = nodeHash(frontier[i]!.hash, h);
  return h;
}

/** Merkle tree hash (RFC 6962 §2.1) of a list of leaf hashes. */
export function merkleRoot(leaves: Buffer[]): Buffer {
  return frontierRoot(leaves.reduce<Frontier>((f, l) => frontierPush(f, l), []));
}

export interface CheckpointBody {
  v: number;
  tenantId: string;
  no: number;
  size: number;
  rootHash: string;
  checkpointedAt: string;
  keyId: string;
}

export interface SignedCheckpoint extends CheckpointBody {
  signature: string;
}

/** The bytes a checkpoint signature covers. */
/** What a JSONL export's seal signs: the tenant, the head it ends at, when, and with which key. */
export interface ExportSealBody {
  tenantId: string;
  exportedAt: string;
  head: { seq: number; entryHash: string } | null;
  keyId: string;
}

export function exportSealInput(s: ExportSealBody): string {
  return canonicalize({
    kind: 'kura-audit-export-seal',
    v: CHAIN_VERSION,
    tenantId: s.tenantId,
    exportedAt: s.exportedAt,
    head: s.head,
    keyId: s.keyId,
  })!;
}

export function checkpointSigningInput(c: CheckpointBody): string {
  return canonicalize({
    v: c.v,
    tenantId: c.tenantId,
    no: c.no,
    size: c.size,
    rootHash: c.rootHash,
    checkpointedAt: c.checkpointedAt,
    keyId: c.keyId,
  })!;
}

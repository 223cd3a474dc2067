/**
 * Offline verification of a JSONL audit export (LOG-02, LOG-04), by `kura audit verify-export`:
 * the same verifier as the live check, fed from the file. It needs no database and no secret.
 *
 * What it proves: every public key in the file matches its id; the export's seal (a signature over
 * the tenant, the head it ends at and the time) verifies with the service's key; every entry from 1
 * to that head is there, in order, each hashing to itself and linking to the one before, and the
 * last one is the sealed head; every checkpoint's signature and Merkle root match. So nothing was
 * edited, removed, inserted, reordered, cut or added after the export was made.
 *
 * What it cannot prove alone: that the key is the provider's. A forger could make a whole file with
 * a key of their own. Hence `trustedKeyIds` (the CLI's --key-id, the id shown on the 監査ログ page):
 * with it, only that key's seal and checkpoints are accepted; without it, the result names the key
 * so a person can compare it. Entry MACs need the provider's MAC key and are not checked here.
 */
import { keyIdOf, verifySignature } from '../crypto/signing.js';
import type { AuditRow } from './audit.repository.js';
import { EXPORT_FORMAT, EXPORT_VERSION } from './audit-query.service.js';
import { exportSealInput, type SignedCheckpoint } from './chain.js';
import { verifyTenantChain, type VerifyResult } from './verify.js';

export interface ExportVerifyResult extends VerifyResult {
  /** The key that sealed the export (compare it with the one the provider shows). */
  sealKeyId: string | null;
  /** Whether the seal's key was among the trusted ones given (null: none were given). */
  trusted: boolean | null;
}

const HEX64 = /^[0-9a-f]{64}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function checkpointOf(v: Record<string, unknown>): SignedCheckpoint | null {
  const { v: ver, tenantId, no, size, rootHash, checkpointedAt, keyId, signature } = v;
  if (
    typeof ver !== 'number' ||
    typeof tenantId !== 'string' ||
    !isCount(no) ||
    !isCount(size) ||
    typeof rootHash !== 'string' ||
    typeof checkpointedAt !== 'string' ||
    typeof keyId !== 'string' ||
    typeof signature !== 'string'
  )
    return null;
  return { v: ver, tenantId, no, size, rootHash, checkpointedAt, keyId, signature } as SignedCheckpoint;
}

const EVENT_STRINGS = [
  'tenant_id',
  'occurred_at',
  'actor_type',
  'action',
  'outcome',
  'details',
  'prev_hash',
  'entry_hash',
] as const;
function eventOf(v: Record<string, unknown>): AuditRow | null {
  if (!Number.isSafeInteger(v.seq) || (v.seq as number) < 1) return null;
  for (const k of EVENT_STRINGS) if (typeof v[k] !== 'string') return null;
  return v as unknown as AuditRow;
}

export async function verifyExport(lines: AsyncIterable<string>, trustedKeyIds: string[] = []): Promise<ExportVerifyResult> {
  let n = 0;
  let tenantId = '';
  let sealKeyId: string | null = null;
  const failed = (problem: string, firstBadSeq: number | null = null): ExportVerifyResult => ({
    tenantId,
    ok: false,
    events: 0,
    checkpoints: 0,
    lastCheckpointSize: 0,
    firstBadSeq,
    problems: [problem],
    sealKeyId,
    trusted: trustedKeyIds.length ? false : null,
  });
  const it = lines[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown> | null> => {
    for (;;) {
      const r = await it.next();
      if (r.done) return null;
      n++;
      if (r.value.trim() === '') continue;
      const value: unknown = JSON.parse(r.value);
      if (!isObject(value)) throw new Error(`line ${n} is not an object`);
      return value;
    }
  };
  try {
    const header = await next();
    if (!header || header.type !== EXPORT_FORMAT || header.version !== EXPORT_VERSION)
      return failed(`not a ${EXPORT_FORMAT} version ${EXPORT_VERSION} file`);
    const { head, seal, keyId, exportedAt, publicKeys } = header;
    if (
      typeof header.tenantId !== 'string' ||
      typeof keyId !== 'string' ||
      typeof seal !== 'string' ||
      typeof exportedAt !== 'string'
    )
      return failed('the header is incomplete');
    tenantId = header.tenantId;
    sealKeyId = keyId;
    if (
      head !== null &&
      !(isObject(head) && isCount(head.seq) && head.seq > 0 && typeof head.entryHash === 'string' && HEX64.test(head.entryHash))
    )
      return failed('the header names no valid head');
    const keys = new Map<string, string>();
    for (const k of Array.isArray(publicKeys) ? publicKeys : []) {
      if (!isObject(k) || typeof k.keyId !== 'string' || typeof k.publicKey !== 'string')
        return failed('a public key entry is malformed');
      let id: string;
      try {
        id = keyIdOf(k.publicKey);
      } catch {
        return failed(`public key ${k.keyId} is not a valid key`);
      }
      if (id !== k.keyId) return failed(`public key ${k.keyId} does not match its id (it is ${id})`);
      keys.set(k.keyId, k.publicKey);
    }
    const sealKey = keys.get(keyId);
    const sealed = { tenantId, exportedAt, head: head as { seq: number; entryHash: string } | null, keyId };
    if (!sealKey || !verifySignature(sealKey, exportSealInput(sealed), seal)) return failed('the export seal does not verify');
    const trusted = trustedKeyIds.length ? trustedKeyIds.includes(keyId) : null;
    if (trusted === false) return failed(`the export is sealed by key ${keyId}, not by a trusted key`);

    const checkpoints: SignedCheckpoint[] = [];
    let first: AuditRow | null = null;
    for (let r = await next(); r; r = await next()) {
      if (r.type === 'checkpoint') {
        const cp = checkpointOf(r);
        if (!cp) return failed(`line ${n}: a malformed checkpoint`);
        if (checkpoints.some((c) => c.no === cp.no)) return failed(`checkpoint ${cp.no} appears twice`);
        if (trustedKeyIds.length && !trustedKeyIds.includes(cp.keyId))
          return failed(`checkpoint ${cp.no} is signed by key ${cp.keyId}, not by a trusted key`);
        checkpoints.push(cp);
      } else if (r.type === 'event') {
        first = eventOf(r);
        if (!first) return failed(`line ${n}: a malformed event`);
        break;
      } else return failed(`line ${n}: unknown record type`);
    }
    const last = head ? (head as { seq: number }).seq : 0;
    let broken: string | null = null;
    async function* events(): AsyncGenerator<AuditRow> {
      for (let row = first; row;) {
        if (Number(row.seq) > last) {
          broken = `entry ${row.seq} is past the sealed head (${last}): added after the export`;
          return;
        }
        yield row;
        const r = await next();
        if (!r) return;
        if (r.type !== 'event') {
          broken = `line ${n}: ${String(r.type)} after the events`;
          return;
        }
        row = eventOf(r);
        if (!row) broken = `line ${n}: a malformed event`;
      }
    }
    const result = await verifyTenantChain({
      tenantId,
      events: events(),
      dbCheckpoints: checkpoints,
      storeCheckpoints: null,
      publicKeys: keys,
      head: head as { seq: number; entryHash: string } | null,
    });
    const problems = broken ? [...result.problems, broken] : result.problems;
    return { ...result, ok: result.ok && !broken, problems, sealKeyId, trusted };
  } catch (err) {
    return failed(`unreadable at line ${n}: ${(err as Error).message}`);
  }
}

/**
 * Offline verification of a JSONL audit export (LOG-02, LOG-04), by `kura audit verify-export`:
 * the same verifier as the live check, fed from the file. It needs no database and no secret: the
 * chain links and the Merkle roots are recomputed, each checkpoint's signature is checked against
 * the public keys in the file (compare their ids with the ones the provider publishes), and every
 * entry up to the head named in the header must be there. Entry MACs need the provider's key and are
 * not checked here.
 */
import type { AuditRow } from './audit.repository.js';
import { EXPORT_FORMAT, EXPORT_VERSION } from './audit-query.service.js';
import type { SignedCheckpoint } from './chain.js';
import { verifyTenantChain, type VerifyResult } from './verify.js';

export async function verifyExport(lines: AsyncIterable<string>): Promise<VerifyResult> {
  const it = lines[Symbol.asyncIterator]();
  const next = async (): Promise<{ line: number; value: Record<string, unknown> } | null> => {
    for (;;) {
      const r = await it.next();
      if (r.done) return null;
      n++;
      if (r.value.trim() === '') continue;
      const value: unknown = JSON.parse(r.value);
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`line ${n} is not an object`);
      return { line: n, value: value as Record<string, unknown> };
    }
  };
  let n = 0;
  const failed = (problem: string): VerifyResult => ({
    tenantId: '',
    ok: false,
    events: 0,
    checkpoints: 0,
    lastCheckpointSize: 0,
    firstBadSeq: null,
    problems: [problem],
  });
  let header: Record<string, unknown>;
  const checkpoints: SignedCheckpoint[] = [];
  let first: AuditRow | null = null;
  try {
    const h = await next();
    if (!h || h.value.type !== EXPORT_FORMAT || h.value.version !== EXPORT_VERSION || typeof h.value.tenantId !== 'string')
      return failed(`not a ${EXPORT_FORMAT} version ${EXPORT_VERSION} file`);
    header = h.value;
    for (let r = await next(); r; r = await next()) {
      const { type, ...rest } = r.value;
      if (type === 'checkpoint') checkpoints.push(rest as unknown as SignedCheckpoint);
      else if (type === 'event') {
        first = rest as unknown as AuditRow;
        break;
      } else return failed(`line ${r.line}: unknown record type`);
    }
  } catch (err) {
    return failed(`unreadable at line ${n}: ${(err as Error).message}`);
  }
  const keys = new Map<string, string>();
  for (const k of Array.isArray(header.publicKeys) ? (header.publicKeys as Array<{ keyId: string; publicKey: string }>) : [])
    keys.set(String(k.keyId), String(k.publicKey));
  const head = header.head as { seq: number; entryHash: string } | null;
  let broken: string | null = null;
  async function* events(): AsyncGenerator<AuditRow> {
    if (first) yield first;
    try {
      for (let r = await next(); r; r = await next()) {
        const { type, ...rest } = r.value;
        if (type !== 'event') throw new Error(`line ${r.line}: ${String(type)} after the events`);
        yield rest as unknown as AuditRow;
      }
    } catch (err) {
      broken = `unreadable at line ${n}: ${(err as Error).message}`;
    }
  }
  const result = await verifyTenantChain({
    tenantId: header.tenantId as string,
    events: events(),
    dbCheckpoints: checkpoints,
    storeCheckpoints: null,
    publicKeys: keys,
    head: head ? { seq: Number(head.seq), entryHash: String(head.entryHash) } : null,
  });
  if (broken) return { ...result, ok: false, problems: [...result.problems, broken] };
  return result;
}

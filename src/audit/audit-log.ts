/**
 * Appends audit events to the per-tenant hash chain (LOG-01, LOG-02). The append takes the
 * caller's transaction as a required parameter, so an event is committed together with the change
 * it records or not at all.
 */
import type { Transaction } from 'kysely';
import type { Clock } from '../core/clock.js';
import type { Actor } from '../core/types.js';
import type { DB } from '../db/schema.js';
import { AppError } from '../core/errors.js';
import { sha256Hex } from '../crypto/primitives.js';
import type { AuditRepository, AuditRow } from './audit.repository.js';
import { GENESIS_HASH, entryHash, entryMac, frontierPush, type ChainEntry, type Frontier } from './chain.js';

export type AuditOutcome = 'success' | 'failure' | 'denied' | 'error';

export interface AuditEventInput {
  /** `resource.event` in past tense, e.g. `tenant.created`, `auth.login_failed`. */
  action: string;
  target?: { type: string; id: string } | undefined;
  outcome?: AuditOutcome | undefined;
  /** Stable reason code for failures and denials (an error code where one exists). */
  reason?: string | undefined;
  /** Structured, non-secret context. Never file content, passwords, tokens or keys (LOG-06). */
  details?: Record<string, unknown> | undefined;
}

export interface AppendedEvent {
  tenantId: string;
  seq: number;
  entryHash: string;
}

export interface AuditLogDeps {
  audit: AuditRepository;
  clock: Clock;
  macKey: Buffer;
}

/** Limits keep one event's row bounded whatever a caller passes. */
const MAX_USER_AGENT = 512;
const MAX_DETAILS_BYTES = 16 * 1024;

export class AuditLog {
  constructor(private readonly deps: AuditLogDeps) {}

  async append(trx: Transaction<DB>, actor: Actor, event: AuditEventInput): Promise<AppendedEvent> {
    const tenantId = actor.tenantId;
    const head = await this.deps.audit.lockHead(trx, tenantId);
    if (!head) throw new AppError('audit.chain_broken', `no audit head for tenant ${tenantId}`);
    const details = boundedDetails(event.details ?? {});
    const entry: ChainEntry = {
      tenant_id: tenantId,
      seq: head.seq + 1,
      occurred_at: this.deps.clock.now().toISOString(),
      actor_type: actor.type,
      actor_id: actor.id,
      ip: actor.ip ?? null,
      zone: actor.zone ?? null,
      user_agent: actor.userAgent ? actor.userAgent.slice(0, MAX_USER_AGENT) : null,
      request_id: actor.requestId ?? null,
      action: event.action,
      target_type: event.target?.type ?? null,
      target_id: event.target?.id ?? null,
      outcome: event.outcome ?? 'success',
      reason: event.reason ?? null,
      details,
      prev_hash: head.entryHash,
    };
    const hash = entryHash(entry);
    const frontier = frontierPush(parseFrontier(head.frontier), Buffer.from(hash, 'hex'));
    const row: AuditRow = {
      ...entry,
      outcome: entry.outcome as AuditOutcome,
      details: JSON.stringify(details),
      entry_hash: hash,
      entry_mac: entryMac(this.deps.macKey, hash),
    };
    await this.deps.audit.insert(trx, row, { seq: entry.seq, entryHash: hash, frontier: serializeFrontier(frontier) });
    return { tenantId, seq: entry.seq, entryHash: hash };
  }

  /** Creates the empty chain of a new tenant (inside the tenant's creating transaction). */
  async startChain(trx: Transaction<DB>, tenantId: string): Promise<void> {
    await this.deps.audit.createHead(trx, tenantId, { seq: 0, entryHash: GENESIS_HASH, frontier: '[]' });
  }
}

export function parseFrontier(text: string): Frontier {
  const raw = JSON.parse(text) as Array<[number, string]>;
  return raw.map(([size, hex]) => ({ size, hash: Buffer.from(hex, 'hex') }));
}

export function serializeFrontier(f: Frontier): string {
  return JSON.stringify(f.map((n) => [n.size, n.hash.toString('hex')]));
}

/**
 * Keeps one entry's details bounded without ever failing the change it records: oversized details
 * (a long text, a large rule list) are replaced by their SHA-256, size and top-level keys.
 */
function boundedDetails(details: Record<string, unknown>): Record<string, unknown> {
  const json = JSON.stringify(details);
  const bytes = Buffer.byteLength(json);
  if (bytes <= MAX_DETAILS_BYTES) return details;
  return { oversized: true, bytes, sha256: sha256Hex(json), keys: Object.keys(details) };
}

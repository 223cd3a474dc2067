/**
 * Readiness (MON-01): the node serves only when the database, blob store and checkpoint store work.
 * The malware scanner is reported too but does not decide readiness: without it uploads are still
 * accepted and stay held (MAL-01), which is the safe way to degrade.
 */
import type { Database } from '../db/database.js';
import type { Scanner } from '../malware/scanner.js';
import type { BlobStore } from '../storage/blob-store.js';
import type { CheckpointStore } from '../audit/checkpoint-store.js';

export interface ComponentStatus {
  name: 'database' | 'blobs' | 'checkpoints' | 'scanner';
  ok: boolean;
  /** Error code or short reason; never credentials or paths of secrets. */
  reason?: string;
}

export interface Readiness {
  ready: boolean;
  components: ComponentStatus[];
}

const CHECK_TIMEOUT_MS = 3000;
/** How long one probe run answers /readyz: probes hit the database, storage and clamd. */
export const READY_MAX_AGE_MS = 1000;

export class ReadinessService {
  constructor(
    private readonly deps: {
      database: Database;
      blobs: BlobStore;
      checkpoints: CheckpointStore;
      scanner?: Scanner;
      /** The managed clamd's state (MAL-02): reported as the reason when the scanner does not answer. */
      scannerState?: (() => string) | undefined;
    },
  ) {}

  private last: { at: number; value: Readiness } | null = null;
  private running: Promise<Readiness> | null = null;

  /**
   * For /readyz, which anyone may call: one probe run at a time, its answer reused for
   * READY_MAX_AGE_MS, so a flood of requests cannot multiply connections to the database, the
   * blob store and clamd.
   */
  current(): Promise<Readiness> {
    if (this.last && performance.now() - this.last.at < READY_MAX_AGE_MS) return Promise.resolve(this.last.value);
    this.running ??= this.check()
      .then((value) => {
        this.last = { at: performance.now(), value };
        return value;
      })
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  async check(): Promise<Readiness> {
    const components = await Promise.all([
      this.probe('database', () => this.deps.database.ping()),
      this.probe('blobs', () => this.deps.blobs.check()),
      this.probe('checkpoints', () => this.deps.checkpoints.check()),
      ...(this.deps.scanner ? [this.probe('scanner', () => this.deps.scanner!.ping())] : []),
    ]);
    const scanner = components.find((c) => c.name === 'scanner');
    if (scanner && !scanner.ok && this.deps.scannerState) scanner.reason = `managed:${this.deps.scannerState()}`;
    return { ready: components.every((c) => c.ok || c.name === 'scanner'), components };
  }

  private async probe(name: ComponentStatus['name'], fn: () => Promise<void>): Promise<ComponentStatus> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })), CHECK_TIMEOUT_MS);
        }),
      ]);
      return { name, ok: true };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return { name, ok: false, reason: typeof code === 'string' ? code : 'unavailable' };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Readiness (MON-01): the node serves only when the database, blob store and checkpoint store work. */
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import type { Database } from '../db/database.js';
import type { CheckpointStore } from '../audit/checkpoint-store.js';

export interface ComponentStatus {
  name: 'database' | 'blobs' | 'checkpoints';
  ok: boolean;
  /** Error code or short reason; never credentials or paths of secrets. */
  reason?: string;
}

export interface Readiness {
  ready: boolean;
  components: ComponentStatus[];
}

const CHECK_TIMEOUT_MS = 3000;

export class ReadinessService {
  constructor(private readonly deps: { database: Database; blobDir: string; checkpoints: CheckpointStore }) {}

  async check(): Promise<Readiness> {
    const components = await Promise.all([
      this.probe('database', () => this.deps.database.ping()),
      this.probe('blobs', async () => {
        await mkdir(this.deps.blobDir, { recursive: true, mode: 0o700 });
        await access(this.deps.blobDir, constants.R_OK | constants.W_OK);
      }),
      this.probe('checkpoints', () => this.deps.checkpoints.check()),
    ]);
    return { ready: components.every((c) => c.ok), components };
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

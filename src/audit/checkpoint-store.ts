/**
 * The checkpoint store outside the main database (design §6): a directory by default (an S3 bucket
 * with object lock in scale-out deployments, behind the same interface). Files are created once
 * and never overwritten, so a rewritten database cannot rewrite its own witnesses.
 */
import { constants } from 'node:fs';
import { access, link, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SignedCheckpoint } from './chain.js';

export interface CheckpointStore {
  readonly description: string;
  /**
   * Writes a checkpoint once; false (and nothing changed) when the store already holds one under
   * that tenant and number, e.g. one a crash left behind before its database row was written.
   */
  write(cp: SignedCheckpoint): Promise<boolean>;
  /** One checkpoint by number, null when there is none; throws on an unreadable entry. */
  read(tenantId: string, no: number): Promise<SignedCheckpoint | null>;
  list(tenantId: string): Promise<SignedCheckpoint[]>;
  writePublicKey(keyId: string, publicKeyPem: string): Promise<void>;
  publicKeys(): Promise<Map<string, string>>;
  /** Throws unless the store can be written (readiness). */
  check(): Promise<void>;
}

const SAFE = /^[A-Za-z0-9-]+$/;

export class DirectoryCheckpointStore implements CheckpointStore {
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = `directory ${dir}`;
  }

  async write(cp: SignedCheckpoint): Promise<boolean> {
    if (!SAFE.test(cp.tenantId)) throw new Error('invalid tenant id for checkpoint path');
    const tenantDir = join(this.dir, cp.tenantId);
    await mkdir(tenantDir, { recursive: true, mode: 0o700 });
    try {
      await writeOnce(join(tenantDir, fileName(cp.no)), `${JSON.stringify(cp)}\n`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    await fsyncDir(tenantDir);
    return true;
  }

  async read(tenantId: string, no: number): Promise<SignedCheckpoint | null> {
    if (!SAFE.test(tenantId) || !Number.isSafeInteger(no) || no < 1) return null;
    let text: string;
    try {
      text = await readFile(join(this.dir, tenantId, fileName(no)), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return JSON.parse(text) as SignedCheckpoint;
  }

  async list(tenantId: string): Promise<SignedCheckpoint[]> {
    if (!SAFE.test(tenantId)) return [];
    const tenantDir = join(this.dir, tenantId);
    let names: string[];
    try {
      names = await readdir(tenantDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: SignedCheckpoint[] = [];
    for (const name of names.filter((n) => /^\d{12}\.json$/.test(n)).sort()) {
      try {
        out.push(JSON.parse(await readFile(join(tenantDir, name), 'utf8')) as SignedCheckpoint);
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
        throw new Error(`checkpoint file ${tenantId}/${name} is unreadable`, { cause: err });
      }
    }
    return out;
  }

  async writePublicKey(keyId: string, publicKeyPem: string): Promise<void> {
    if (!SAFE.test(keyId)) throw new Error('invalid key id');
    const keysDir = join(this.dir, 'keys');
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
    try {
      await writeOnce(join(keysDir, `${keyId}.pem`), publicKeyPem);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }

  async publicKeys(): Promise<Map<string, string>> {
    const keysDir = join(this.dir, 'keys');
    const out = new Map<string, string>();
    let names: string[] = [];
    try {
      names = await readdir(keysDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const name of names.filter((n) => n.endsWith('.pem'))) {
      out.set(name.slice(0, -4), await readFile(join(keysDir, name), 'utf8'));
    }
    return out;
  }

  async check(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await access(this.dir, constants.W_OK | constants.R_OK);
  }
}

function fileName(no: number): string {
  return `${String(no).padStart(12, '0')}.json`;
}

/** Writes `path` durably and only if it does not exist yet (temp file + fsync + link). */
async function writeOnce(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, path);
  } finally {
    await unlink(tmp);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

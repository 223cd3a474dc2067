/**
 * Master-key providers (design §5). The master key wraps tenant KEKs and service keys; it never
 * leaves the provider in a KMS/HSM deployment. The local provider keeps it in a 0600 file.
 */
import { chmodSync, existsSync, openSync, readFileSync, statSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { AEAD_KEY_BYTES, randomBytes, sha256Hex, unwrapKey, wrapKey } from './primitives.js';

export interface KeyProvider {
  /** Identifies the master key (not secret); recorded beside what it wraps. */
  readonly keyId: string;
  /** Human description for the crypto disclosure (ENC-05). */
  readonly description: string;
  wrap(plaintext: Buffer, aad: string): Promise<Buffer>;
  unwrap(wrapped: Buffer, aad: string): Promise<Buffer>;
}

const PREFIX = 'kura-master-key-v1:';

export class MasterKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MasterKeyError';
  }
}

/** Local key file: `kura-master-key-v1:<base64 of 32 random bytes>`, mode 0600, owner-only. */
export class LocalKeyFileProvider implements KeyProvider {
  readonly keyId: string;
  readonly description: string;
  private readonly key: Buffer;

  private constructor(path: string, key: Buffer) {
    this.key = key;
    this.keyId = `local:${sha256Hex(Buffer.concat([Buffer.from('kura-key-id'), key])).slice(0, 16)}`;
    this.description = `local key file ${path} (AES-256, mode 0600)`;
  }

  /** Creates a new key file; refuses to overwrite an existing one (never a new key over old data). */
  static create(path: string): LocalKeyFileProvider {
    if (existsSync(path)) throw new MasterKeyError(`master key file ${path} already exists; refusing to overwrite it`);
    const key = randomBytes(AEAD_KEY_BYTES);
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, `${PREFIX}${key.toString('base64')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(path, 0o600);
    return new LocalKeyFileProvider(path, key);
  }

  /** Loads the key file; refuses a missing file, a group/world-accessible file or a malformed key. */
  static load(path: string): LocalKeyFileProvider {
    if (!existsSync(path)) {
      throw new MasterKeyError(
        `master key file ${path} is missing; restore it from your key backup (a new key would make existing data unreadable)`,
      );
    }
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new MasterKeyError(
        `master key file ${path} has mode ${mode.toString(8)}; it must be readable by its owner only (chmod 600 ${path})`,
      );
    }
    const text = readFileSync(path, 'utf8').trim();
    const key = text.startsWith(PREFIX) ? Buffer.from(text.slice(PREFIX.length), 'base64') : Buffer.alloc(0);
    if (key.length !== AEAD_KEY_BYTES) throw new MasterKeyError(`master key file ${path} is malformed`);
    return new LocalKeyFileProvider(path, key);
  }

  async wrap(plaintext: Buffer, aad: string): Promise<Buffer> {
    return wrapKey(this.key, plaintext, aad);
  }

  async unwrap(wrapped: Buffer, aad: string): Promise<Buffer> {
    return unwrapKey(this.key, wrapped, aad);
  }
}

/**
 * Keys of the service itself (not of a tenant): the ECDSA P-256 key that signs audit checkpoints
 * and evidence, and the HMAC key that seals each audit entry. Both are stored in the database
 * wrapped by the master key, so every node of a scale-out deployment can load them and a database
 * dump alone cannot forge either.
 */
import type { KeyProvider } from './key-provider.js';
import { randomBytes } from './primitives.js';
import { generateSigningKeyPem, keyIdOf, loadSigningKey, type SigningKey } from './signing.js';
import { sha256Hex } from './primitives.js';

export interface ServiceKeyRecord {
  purpose: string;
  keyId: string;
  wrappedKey: Buffer;
  publicKey: string | null;
  masterKeyId: string;
}

export interface ServiceKeyStore {
  find(purpose: string): Promise<ServiceKeyRecord | undefined>;
  /** Inserts unless a record for the purpose exists (another node won the race); never overwrites. */
  insertIfAbsent(record: ServiceKeyRecord): Promise<void>;
  publicKeys(): Promise<Array<{ keyId: string; publicKey: string }>>;
}

export interface ServiceKeys {
  signing: SigningKey;
  /** HMAC-SHA256 key for audit entry MACs; `macKeyId` names it. */
  auditMacKey: Buffer;
  auditMacKeyId: string;
}

const SIGNING = 'audit-signing';
const AUDIT_MAC = 'audit-mac';

/** Loads the service keys, creating any that do not exist yet. */
export async function loadOrCreateServiceKeys(provider: KeyProvider, store: ServiceKeyStore): Promise<ServiceKeys> {
  if (!(await store.find(SIGNING))) {
    const { privateKeyPem, publicKeyPem } = generateSigningKeyPem();
    await store.insertIfAbsent({
      purpose: SIGNING,
      keyId: keyIdOf(publicKeyPem),
      wrappedKey: await provider.wrap(Buffer.from(privateKeyPem), aad(SIGNING)),
      publicKey: publicKeyPem,
      masterKeyId: provider.keyId,
    });
  }
  if (!(await store.find(AUDIT_MAC))) {
    const key = randomBytes(32);
    await store.insertIfAbsent({
      purpose: AUDIT_MAC,
      keyId: sha256Hex(Buffer.concat([Buffer.from('kura-mac-id'), key])).slice(0, 16),
      wrappedKey: await provider.wrap(key, aad(AUDIT_MAC)),
      publicKey: null,
      masterKeyId: provider.keyId,
    });
  }
  const signingRec = (await store.find(SIGNING))!;
  const macRec = (await store.find(AUDIT_MAC))!;
  const signing = loadSigningKey((await provider.unwrap(signingRec.wrappedKey, aad(SIGNING))).toString());
  return { signing, auditMacKey: await provider.unwrap(macRec.wrappedKey, aad(AUDIT_MAC)), auditMacKeyId: macRec.keyId };
}

function aad(purpose: string): string {
  return `kura-service-key-v1|${purpose}`;
}

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx|js|mjs)$/.test(name) ? [p] : [];
  });
}

const sources = [...files(join(root, 'src')), ...files(join(root, 'web/src'))].filter((f) => !f.endsWith('.test.ts'));

describe('crypto module boundary [ENC-04]', () => {
  it('keeps every node:crypto import inside src/crypto', () => {
    const offenders = sources
      .filter((f) => !relative(root, f).startsWith('src/crypto/'))
      .filter((f) =>
        /from\s+['"](node:)?crypto['"]|require\(\s*['"](node:)?crypto['"]\s*\)|import\(\s*['"](node:)?crypto['"]\s*\)/.test(
          readFileSync(f, 'utf8'),
        ),
      )
      .map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });

  it('uses no MD5 or SHA-1 and no non-AEAD cipher anywhere but the documented TOTP exception', () => {
    const weak = /['"](md5|sha1|sha-1|aes-\d+-(cbc|ecb|ctr|cfb|ofb)|des|des-ede3|rc4|chacha20-poly1305)['"]/i;
    // HMAC-SHA-1 for TOTP exists only as a per-tenant compatibility choice (default SHA-256), see totp.ts and the setting that selects it.
    // The web client of that setting names the choice too (web/src/features/tenants/policy.api.ts).
    const exceptions = new Set([
      'src/crypto/totp.ts',
      'src/tenants/tenant-settings.ts',
      'web/src/features/tenants/policy.api.ts',
    ]);
    const offenders = sources
      .filter((f) => weak.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f))
      .filter((f) => !exceptions.has(f));
    expect(offenders).toEqual([]);
  });
});

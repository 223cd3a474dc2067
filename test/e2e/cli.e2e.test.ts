import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKura, startKura } from '../support/cli.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kura-cli-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('kura CLI', () => {
  let cwd: string;

  beforeAll(async () => {
    cwd = tempDir();
    const r = await runKura(
      ['init', '--region', '大阪府', '--facility', 'DC-West', '--tenant-slug', 'sample-city', '--tenant-name', 'サンプル市'],
      { cwd },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('initialises kura.yaml with every data location in Japan, a 0600 master key and database and a first tenant [FAC-01] [ENC-03]', () => {
    const cfg = parse(readFileSync(join(cwd, 'kura.yaml'), 'utf8')) as {
      locations: Array<{ kind: string; country: string; region: string }>;
    };
    expect(cfg.locations.map((l) => l.kind).sort()).toEqual([
      'backups',
      'blobs',
      'checkpoints',
      'database',
      'exports',
      'staging',
    ]);
    expect(cfg.locations.every((l) => l.country === 'JP' && l.region === '大阪府')).toBe(true);
    expect(statSync(join(cwd, 'data/master.key')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(cwd, 'data/kura.db'))).toBe(true);
    // The database (wrapped keys, session hashes, the audit chain) is the owner's only, whatever the umask.
    expect(statSync(join(cwd, 'data/kura.db')).mode & 0o777).toBe(0o600);
  });

  it('lists tenants and refuses duplicates and bad slugs with clear exits', async () => {
    const list = await runKura(['tenant', 'list'], { cwd });
    expect(list.stdout).toMatch(/^sample-city\tサンプル市\tactive\t/m);
    const dup = await runKura(['tenant', 'create', '--slug', 'sample-city', '--name', 'x'], { cwd });
    expect([dup.code, dup.stderr.trim()]).toEqual([1, 'kura: tenant.slug_taken: sample-city']);
    const bad = await runKura(['tenant', 'create', '--slug', 'Bad Slug!', '--name', 'x'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid input: slug/);
    const missing = await runKura(['tenant', 'create', '--slug', 'x1'], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--name/);
  });

  it('has --help for every command', async () => {
    for (const args of [
      ['--help'],
      ['serve', '--help'],
      ['init', '--help'],
      ['audit', 'verify', '--help'],
      ['tenant', 'create', '--help'],
      ['keys', 'rotate', '--help'],
    ]) {
      const r = await runKura(args, { cwd });
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: kura/);
    }
  });

  it('passes audit verify on a fresh instance and fails, naming tenant and seq, after a row is changed in the database file [LOG-02]', async () => {
    expect((await runKura(['audit', 'checkpoint'], { cwd })).code).toBe(0);
    const ok = await runKura(['audit', 'verify'], { cwd });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/OK\s+system: \d+ events/);
    // tenant.created, then the first administrator: user.created and user.setup_link_issued
    expect(ok.stdout).toMatch(/OK\s+sample-city: 3 events, 1 checkpoints/);

    // An attacker with the database file: drop the append-only trigger and edit the first event.
    const db = new BetterSqlite3(join(cwd, 'data/kura.db'));
    db.exec('drop trigger audit_events_no_update');
    db.prepare(
      `update audit_events set details = '{"slug":"evil"}' where seq = 1 and tenant_id = (select id from tenants where slug = 'sample-city')`,
    ).run();
    db.close();

    const bad = await runKura(['audit', 'verify'], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAIL\s+sample-city \([0-9a-f-]+\): first bad seq 1/);
    expect(bad.stdout).toMatch(/OK\s+system/);
    expect(bad.stderr).toMatch(/audit verification failed for sample-city/);
  });
});

describe('kura keys', () => {
  it('rotates a tenant key and re-wraps the data keys; refuses an unknown tenant; destroys the retired version, never the active one [ENC-03]', async () => {
    const cwd = tempDir();
    expect(
      (
        await runKura(
          ['init', '--region', '東京都', '--facility', 'test', '--tenant-slug', 'key-city', '--tenant-name', '鍵市'],
          { cwd },
        )
      ).code,
    ).toBe(0);
    const r = await runKura(['keys', 'rotate', '--tenant', 'key-city', '--wait'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/key version 2 is active/);
    expect(r.stdout).toMatch(/still under older versions: 0/);
    const st = await runKura(['keys', 'status', '--tenant', 'key-city', '--json'], { cwd });
    expect(JSON.parse(st.stdout)).toMatchObject({
      activeVersion: 2,
      pendingBlobs: 0,
      versions: [
        { version: 2, state: 'active' },
        { version: 1, state: 'retired' },
      ],
    });
    const bad = await runKura(['keys', 'rotate', '--tenant', 'nowhere'], { cwd });
    expect(bad.code).not.toBe(0);
    // Nothing happens without --yes; the active version is refused; the retired one, with nothing under it, is destroyed.
    const unconfirmed = await runKura(['keys', 'destroy', '--tenant', 'key-city', '--key-version', '1'], { cwd });
    expect([unconfirmed.code, unconfirmed.stderr]).toEqual([2, expect.stringContaining('--yes')]);
    const active = await runKura(['keys', 'destroy', '--tenant', 'key-city', '--key-version', '2', '--yes'], { cwd });
    expect(active.code).not.toBe(0);
    expect(active.stderr).toMatch(/keys\.version_active/);
    const gone = await runKura(['keys', 'destroy', '--tenant', 'key-city', '--key-version', '1', '--yes'], { cwd });
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toMatch(/key version 1 destroyed/);
    const after = await runKura(['keys', 'status', '--tenant', 'key-city', '--json'], { cwd });
    expect(JSON.parse(after.stdout).versions).toMatchObject([
      { version: 2, state: 'active' },
      { version: 1, state: 'destroyed' },
    ]);
  });
});

describe('kura serve refuses unsafe starts', () => {
  it('stops with a message naming a data location outside Japan [FAC-01]', async () => {
    const cwd = tempDir();
    expect((await runKura(['init'], { cwd })).code).toBe(0);
    const cfg = readFileSync(join(cwd, 'kura.yaml'), 'utf8');
    writeFileSync(
      join(cwd, 'kura.yaml'),
      `${cfg}  - { name: singapore-backup, kind: backups, country: SG, region: Singapore, facility: SG-1 }\n`,
    );
    const r = await runKura(['serve'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/data location "singapore-backup" \(backups\) is in SG/);
  });

  it('stops when the master key of existing data is missing or readable by others', async () => {
    const cwd = tempDir();
    expect((await runKura(['init'], { cwd })).code).toBe(0);
    const key = join(cwd, 'data/master.key');
    chmodSync(key, 0o644);
    const loose = await runKura(['serve'], { cwd });
    expect(loose.code).toBe(2);
    expect(loose.stderr).toMatch(/chmod 600/);
    rmSync(key);
    const missing = await runKura(['serve'], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/master key file .* is missing/);
    expect(existsSync(key)).toBe(false); // never silently replaced
  });

  it('stops with every configuration problem listed', async () => {
    const cwd = tempDir();
    writeFileSync(join(cwd, 'kura.yaml'), 'zones:\n  lgwan: { port: 99999 }\ntrustedProxies: [nope]\n');
    const r = await runKura(['serve'], { cwd });
    expect(r.code).toBe(2);
    for (const text of ['zones.lgwan.port', 'trustedProxies.0', 'kind "database"']) expect(r.stderr).toContain(text);
  });

  it('initialises an empty directory on first start and prints both zone URLs [LG-01]', async () => {
    const cwd = tempDir();
    const k = await startKura({ cwd });
    try {
      expect(k.stdout()).toContain(`https://127.0.0.1:${k.lgwanPort}/`);
      expect(k.stdout()).toContain(`https://127.0.0.1:${k.internetPort}/`);
      expect(k.stdout()).toMatch(/自己署名証明書を生成しました/);
      expect(existsSync(join(cwd, 'data/tls/lgwan.crt'))).toBe(true);
      expect(statSync(join(cwd, 'data/tls/lgwan.key')).mode & 0o777).toBe(0o600);
    } finally {
      await k.stop();
    }
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load-config.js';

const dir = mkdtempSync(join(tmpdir(), 'kura-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const JP = (kind: string, name = kind) => ({ name, kind, country: 'JP', region: '東京都', facility: 'DC-1' });
const okLocations = [JP('database'), JP('blobs'), JP('checkpoints')];

function write(name: string, doc: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc)); // JSON is YAML
  return p;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('applies defaults and resolves paths against the config file [design §8]', () => {
    const file = write('ok.yaml', { dataDir: './d', locations: okLocations });
    const c = loadConfig({ KURA_CONFIG: file }, '/elsewhere');
    expect(c.dataDir).toBe(join(dir, 'd'));
    expect(c.zones.lgwan.port).toBe(8443);
    expect(c.zones.internet.port).toBe(9443);
    expect(c.paths.database).toBe(join(dir, 'd', 'kura.db'));
    expect(c.paths.masterKey).toBe(join(dir, 'd', 'master.key'));
    expect(c.monitoringAllow).toEqual(['127.0.0.1', '::1']);
  });

  it('lets KURA_* variables override the file', () => {
    const file = write('env.yaml', { locations: okLocations, zones: { lgwan: { port: 1 } } });
    const c = loadConfig(
      {
        KURA_CONFIG: file,
        KURA_LGWAN_PORT: '18443',
        KURA_INTERNET_PORT: '19443',
        KURA_DATABASE_URL: 'postgres://u@db.example.jp/kura',
        KURA_TRUSTED_PROXIES: '10.0.0.0/8, 2001:db8::/32',
        KURA_DATA_DIR: 'rel',
      },
      '/work/x',
    );
    expect([c.zones.lgwan.port, c.zones.internet.port]).toEqual([18443, 19443]);
    expect(c.paths.database).toBe('postgres://u@db.example.jp/kura');
    expect(c.trustedProxies).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(c.dataDir).toBe('/work/x/rel');
  });

  it('refuses keys it does not know instead of ignoring them (a misspelt setting would fall back to a default)', () => {
    const file = write('typo.yaml', {
      locations: okLocations,
      trustedProxy: ['10.0.0.0/8'],
      zones: { internet: { port: 9443, cert_file: '/etc/kura/internet.pem' } },
      S3: { bucket: 'kura' },
    });
    const found = problems(() => loadConfig({ KURA_CONFIG: file }, '/work/x')).join('\n');
    expect(found).toContain('trustedProxy');
    expect(found).toContain('S3');
    expect(found).toMatch(/zones\.internet.*cert_file/);
  });

  it('stops the start when a data location is outside Japan, naming it [FAC-01]', () => {
    const file = write('abroad.yaml', { locations: [...okLocations, { ...JP('backups', 'offsite-backup'), country: 'US' }] });
    const p = problems(() => loadConfig({ KURA_CONFIG: file }, dir));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/locations\.3\.country: data location "offsite-backup" \(backups\) is in US/);
  });

  it('requires every data location in use to be declared [FAC-01]', () => {
    const file = write('undeclared.yaml', { locations: [JP('database')] });
    const p = problems(() => loadConfig({ KURA_CONFIG: file }, dir));
    expect(p.join('\n')).toMatch(/"blobs"/);
    expect(p.join('\n')).toMatch(/"checkpoints"/);
  });

  it('lists every problem at once', () => {
    const file = write('bad.yaml', {
      locations: okLocations,
      zones: { lgwan: { port: 70000 }, internet: { certFile: 'a.pem' } },
      trustedProxies: ['not-an-ip', '10.0.0.0/99'],
      logLevel: 'loud',
    });
    const p = problems(() => loadConfig({ KURA_CONFIG: file }, dir));
    const text = p.join('\n');
    expect(text).toMatch(/zones\.lgwan\.port/);
    expect(text).toMatch(/trustedProxies\.0/);
    expect(text).toMatch(/trustedProxies\.1/);
    expect(text).toMatch(/logLevel/);
    expect(text).toMatch(/certFile and keyFile go together/);
    expect(p.length).toBeGreaterThanOrEqual(5);
  });

  it('reports unreadable YAML and a missing KURA_CONFIG file clearly', () => {
    expect(problems(() => loadConfig({ KURA_CONFIG: write('broken.yaml', 'a: [1, 2') }, dir))[0]).toMatch(/not valid YAML/);
    expect(problems(() => loadConfig({ KURA_CONFIG: join(dir, 'nope.yaml') }, dir))[0]).toMatch(/does not exist/);
  });

  it('refuses two zones on one listener [LG-01]', () => {
    const file = write('same.yaml', { locations: okLocations, zones: { lgwan: { port: 8443 }, internet: { port: 8443 } } });
    expect(problems(() => loadConfig({ KURA_CONFIG: file }, dir)).join()).toMatch(/separate listeners/);
  });
});

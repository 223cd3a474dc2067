/**
 * The managed clamd (MAL-02): Kura's supervisor writes clamd's config, seeds its signature
 * directory, runs the real clamd as a child on a unix socket, and restarts it after a SIGKILL; a
 * scan cut off by the kill is an error verdict (the file stays held) and the next scan, after the
 * restart, works. Missing binary or signatures → `unavailable` with what to install.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClamdScanner } from '../../src/malware/clamd-scanner.js';
import { ClamdSupervisor, type SupervisorEvent } from '../../src/malware/clamd-supervisor.js';

const onSqlite = process.env.KURA_TEST_DB === 'sqlite';
const clamdBinary = spawnSync('sh', ['-c', 'command -v clamd || ls /usr/sbin/clamd'], { encoding: 'utf8' }).stdout.trim() || null;
// The 68-byte EICAR test string, kept in hex so no scanner flags this file.
const EICAR_HEX =
  '58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a';
const EICAR = Buffer.from(EICAR_HEX, 'hex');
const MiB = 1024 * 1024;

const ping = (socket: string) => new ClamdScanner(`unix:${socket}`, { timeoutMs: 2000 }).ping();

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.runIf(onSqlite)('managed clamd (MAL-02)', () => {
  let dir: string;
  let seed: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kura-clamd-sup-'));
    seed = join(dir, 'seed');
    mkdirSync(seed);
    writeFileSync(join(seed, 'kura-test.ndb'), `Kura.Test.Eicar.NDB:0:*:${EICAR_HEX}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  if (!clamdBinary && process.env.CI) it('has clamd installed [MAL-02]', () => expect(clamdBinary).not.toBeNull());

  it('reports a missing clamd with what to install, and no signatures with how to get them [MAL-02]', async () => {
    const events: SupervisorEvent[] = [];
    const missing = new ClamdSupervisor({
      binary: join(dir, 'no-such-clamd'),
      dir: join(dir, 'missing'),
      databaseDir: join(dir, 'missing', 'db'),
      seedFrom: [seed],
      maxFileBytes: MiB,
      ping,
      onEvent: (e) => events.push(e),
    });
    const s = await missing.start();
    expect(s.state).toBe('unavailable');
    expect(s.problem).toMatch(/apt-get install -y clamav-daemon/);
    expect(events).toEqual([{ type: 'unavailable', problem: s.problem }]);
    if (!clamdBinary) return;
    const empty = new ClamdSupervisor({
      binary: clamdBinary,
      dir: join(dir, 'empty'),
      databaseDir: join(dir, 'empty', 'db'),
      seedFrom: [join(dir, 'nowhere')],
      maxFileBytes: MiB,
      ping,
    });
    const e = await empty.start();
    expect(e.state).toBe('unavailable');
    expect(e.problem).toContain(`freshclam --datadir=${join(dir, 'empty', 'db')}`);
    expect(existsSync(join(dir, 'empty', 'clamd.sock'))).toBe(false);
  });

  describe.runIf(clamdBinary)('with the real clamd', () => {
    let sup: ClamdSupervisor;
    const events: SupervisorEvent[] = [];
    const maxFileBytes = 3 * 1024 * MiB;
    beforeAll(async () => {
      sup = new ClamdSupervisor({
        binary: 'clamd',
        dir: join(dir, 'managed'),
        databaseDir: join(dir, 'managed', 'db'),
        seedFrom: [join(dir, 'nowhere'), seed],
        maxFileBytes,
        ping,
        onEvent: (e) => events.push(e),
        backoffMs: { first: 200, max: 1000 },
        startTimeoutMs: 60_000,
      });
      const s = await sup.start();
      if (s.state !== 'running') throw new Error(`managed clamd did not start: ${s.problem}`);
    }, 90_000);
    afterAll(() => sup?.stop());

    it('writes a config with limits over the upload limit and alerts on exceeded limits and encryption [MAL-02]', () => {
      const conf = readFileSync(join(dir, 'managed', 'clamd.conf'), 'utf8');
      expect(conf).toContain(`LocalSocket ${sup.socket}`);
      expect(conf).toContain(`DatabaseDirectory ${join(dir, 'managed', 'db')}`);
      for (const line of ['AlertExceedsMax yes', 'AlertEncrypted yes', 'Foreground yes']) expect(conf).toContain(line);
      // 3 GiB upload limit → stream and file limits at clamd's ceiling (4000M), never below the limit.
      for (const key of ['StreamMaxLength', 'MaxFileSize', 'MaxScanSize']) {
        const mib = Number(new RegExp(`^${key} (\\d+)M$`, 'm').exec(conf)?.[1]);
        expect(mib, key).toBeGreaterThanOrEqual(Math.min(4000, maxFileBytes / MiB));
      }
      expect(readdirSync(join(dir, 'managed', 'db'))).toEqual(['kura-test.ndb']);
      expect(sup.status()).toMatchObject({ state: 'running', restarts: 0, problem: null });
    });

    it('scans through the managed socket: EICAR found, clean data clean [MAL-02]', async () => {
      const scanner = new ClamdScanner(`unix:${sup.socket}`, { timeoutMs: 10_000 });
      const bad = await scanner.scan(Readable.from([Buffer.from('harmless prefix '), EICAR]));
      expect(bad).toMatchObject({ result: 'infected', signature: expect.stringContaining('Kura.Test.Eicar') });
      expect(await scanner.scan(Readable.from([Buffer.from('hello 蔵')]))).toMatchObject({ result: 'clean' });
    });

    it('restarts clamd after SIGKILL; the scan it cut off is an error (held), the next one works [MAL-02, MAL-01]', async () => {
      const scanner = new ClamdScanner(`unix:${sup.socket}`, { timeoutMs: 10_000 });
      const pid = sup.status().pid!;
      // A slow body: the kill lands while clamd is reading it.
      let sent = 0;
      const body = new Readable({
        read() {
          if (sent === 4 * MiB) return this.push(null);
          sent += MiB;
          setTimeout(() => this.push(Buffer.alloc(MiB, 0x41)), 150);
        },
      });
      const scanning = scanner.scan(body);
      await until('the scan to start', () => sent >= 2 * MiB);
      process.kill(pid, 'SIGKILL');
      const cut = await scanning;
      expect(cut.result).toBe('error');
      await until('the supervisor to restart clamd', () => sup.status().state === 'running' && sup.status().pid !== pid);
      expect(sup.status().restarts).toBe(1);
      expect(events.some((e) => e.type === 'exited' && e.pid === pid && e.signal === 'SIGKILL')).toBe(true);
      expect(await scanner.scan(Readable.from([EICAR]))).toMatchObject({ result: 'infected' });
    }, 60_000);

    it('never answers clean for a file over the limits it was configured with [MAL-02, MAL-01]', async () => {
      const small = new ClamdSupervisor({
        binary: 'clamd',
        dir: join(dir, 'small'),
        databaseDir: join(dir, 'small', 'db'),
        seedFrom: [seed],
        maxFileBytes: MiB,
        ping,
        startTimeoutMs: 60_000,
      });
      expect((await small.start()).state).toBe('running');
      try {
        const scanner = new ClamdScanner(`unix:${small.socket}`, { timeoutMs: 10_000 });
        const over = await scanner.scan(Readable.from([Buffer.alloc(4 * MiB, 0x41)]));
        expect(over.result).not.toBe('clean');
        expect(over.result === 'error' ? over.reason : over.result === 'infected' ? over.signature : 'clean').toMatch(
          /too_large|Limits\.Exceeded/,
        );
        expect(await scanner.scan(Readable.from([Buffer.alloc(512 * 1024, 0x41)]))).toMatchObject({ result: 'clean' });
      } finally {
        await small.stop();
      }
    }, 90_000);

    it('stops its clamd on stop (nothing left running) [MAL-02]', async () => {
      const pid = sup.status().pid!;
      await sup.stop();
      expect(sup.status().state).toBe('stopped');
      expect(() => process.kill(pid, 0)).toThrow();
    });
    it('takes over from a clamd left running by a killed Kura (same config), not from anyone else [MAL-02]', async () => {
      const { spawn } = await import('node:child_process');
      // What a SIGKILLed Kura leaves: its clamd still running with our config, holding the socket.
      const leftover = spawn('clamd', ['-c', join(dir, 'managed', 'clamd.conf')], { stdio: 'ignore', detached: true });
      leftover.unref();
      await until(
        'the leftover clamd to answer',
        () =>
          ping(sup.socket).then(
            () => true,
            () => false,
          ),
        60_000,
      );
      const next = new ClamdSupervisor({
        binary: 'clamd',
        dir: join(dir, 'managed'),
        databaseDir: join(dir, 'managed', 'db'),
        seedFrom: [seed],
        maxFileBytes,
        ping,
        startTimeoutMs: 60_000,
      });
      try {
        const s = await next.start();
        expect(s.state).toBe('running');
        expect(s.pid).not.toBe(leftover.pid);
        await until('the leftover to be gone', () => {
          try {
            process.kill(leftover.pid!, 0);
            return false;
          } catch {
            return true;
          }
        });
      } finally {
        await next.stop();
        try {
          process.kill(leftover.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }, 120_000);
  });
});

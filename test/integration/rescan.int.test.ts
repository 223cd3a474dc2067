/**
 * Signature freshness and rescans (MAL-02, MAL-04) with a real clamd of the test's own (managed by
 * Kura's supervisor, so the test can add a signature and RELOAD it): a file that was clean is found
 * infected after a signature update, quarantined, and its uploader and the admins are told; clean
 * files get a rescan record; stale signatures raise one fault event a day; files not scanned for
 * 30 days are queued. The engine's VERSION answer is scripted (a local database has no version
 * number); every verdict comes from clamd.
 */
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { SYSTEM_TENANT_ID, type TenantId } from '../../src/core/types.js';
import { buildServer, type App } from '../../src/http/server.js';
import type { JobQueue } from '../../src/jobs/job-queue.js';
import { Worker } from '../../src/jobs/worker.js';
import { ClamdScanner } from '../../src/malware/clamd-scanner.js';
import { ClamdSupervisor } from '../../src/malware/clamd-supervisor.js';
import type { Scanner } from '../../src/malware/scanner.js';
import { SignatureMonitor } from '../../src/malware/signature-monitor.service.js';
import { createTestKura, type TestKura } from '../support/kura.js';
import { Members, multipartBody, type Member, type TestTenant } from '../support/members.js';
import { encryptedZip } from '../support/office-fixtures.js';

const clamdBinary = process.env.KURA_TEST_CLAMD ? 'clamd' : null;
const EICAR_HEX =
  '58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a';
const TOKEN = `KURA-RESCAN-${process.pid}-${Date.now()}-LATER-DETECTED`;
const clock = new ManualClock(new Date('2026-11-26T01:00:00.000Z'));

let dir: string;
let sup: ClamdSupervisor;
let k: TestKura;
let app: App;
let m: Members;
let tenant: TestTenant;
let staff: Member;
let admin: Member;

function ask(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(socket);
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => resolve(out.replace(/\0$/, '')));
    s.on('error', reject);
    s.write(`z${command}\0`);
  });
}

async function runJobs(): Promise<void> {
  const w = new Worker(k.services.jobs, { id: 'test', handlers: k.services.jobHandlers });
  while (await w.runOnce());
}

/** A monitor whose engine VERSION answers signature version `n`, dated an hour ago; every verdict still comes from clamd. */
function monitorAt(n: () => number, over: { jobs?: JobQueue; rescanBatch?: number } = {}): SignatureMonitor {
  const scripted: Scanner = {
    engine: 'clamd',
    scan: (body: Readable, o) => k.services.scanner.scan(body, o),
    ping: () => k.services.scanner.ping(),
    version: () =>
      Promise.resolve(`ClamAV 1.0.7/${n()}/${new Date(clock.now().getTime() - 3_600_000).toUTCString().replace(' GMT', '')}`),
  };
  return new SignatureMonitor({
    db: k.services.database.db,
    database: k.services.database,
    clock,
    audit: k.services.audit,
    jobs: over.jobs ?? k.services.jobs,
    scanner: scripted,
    maxAgeHours: 24,
    ...(over.rescanBatch ? { rescanBatch: over.rescanBatch } : {}),
  });
}

const recordedSignatureVersion = async () =>
  (
    await k.services.database.db
      .selectFrom('kura_meta')
      .select('value')
      .where('key', '=', 'malware.signature_version')
      .executeTakeFirst()
  )?.value;

/** Version ids with a rescan job queued for signature version `n`, sorted. */
async function rescansFor(n: number): Promise<string[]> {
  const rows = await k.services.database.db
    .selectFrom('jobs')
    .select(['payload'])
    .where('kind', '=', 'files.rescan')
    .where('dedupe_key', 'like', `rescan:%:sig${n}`)
    .execute();
  return rows.map((r) => String((JSON.parse(r.payload) as { versionId: string }).versionId)).sort();
}

/** New members (the earlier test moved the clock a month on: the first ones' sessions have expired). */
async function freshMembers(): Promise<void> {
  staff = await m.member(tenant);
  admin = await m.member(tenant, 'tenant_admin');
}

async function upload(name: string, content: Buffer): Promise<string> {
  const { payload, contentType } = multipartBody(name, content);
  const folder = (await staff.client.post('/api/v1/folders', { parentId: null, name: `f-${name}` })).body.id;
  const r = await staff.client.send('POST', `/api/v1/folders/${folder}/files`, payload, { 'content-type': contentType });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id;
}

describe.runIf(clamdBinary)(`rescans on ${process.env.KURA_TEST_DB ?? 'sqlite'} (MAL-04)`, () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kura-rescan-'));
    mkdirSync(join(dir, 'seed'));
    writeFileSync(join(dir, 'seed', 'eicar.ndb'), `Kura.Test.Eicar.NDB:0:*:${EICAR_HEX}\n`);
    sup = new ClamdSupervisor({
      binary: 'clamd',
      dir: join(dir, 'clamd'),
      databaseDir: join(dir, 'clamd', 'db'),
      seedFrom: [join(dir, 'seed')],
      maxFileBytes: 64 * 1024 * 1024,
      ping: (socket) => new ClamdScanner(`unix:${socket}`, { timeoutMs: 2000 }).ping(),
      startTimeoutMs: 60_000,
    });
    const s = await sup.start();
    if (s.state !== 'running') throw new Error(`clamd did not start: ${s.problem}`);
    k = await createTestKura({ clock, env: { KURA_CLAMD: `unix:${sup.socket}` } });
    app = await buildServer(k.services, { zone: 'lgwan', webUi: false });
    await app.ready();
    m = new Members(k, app, clock);
    tenant = await m.tenant();
    staff = await m.member(tenant);
    admin = await m.member(tenant, 'tenant_admin');
  }, 90_000);
  afterAll(async () => {
    await app?.close();
    await k?.close();
    await sup?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('quarantines a once-clean file after a signature update finds it, and records clean rescans [MAL-04, MAL-03]', async () => {
    const laterBad = await upload('later.txt', Buffer.from(`report text ${TOKEN} more text`));
    const good = await upload('good.txt', Buffer.from('plain harmless text'));
    await runJobs();
    expect((await staff.client.get(`/api/v1/files/${laterBad}`)).body.latest.state).toBe('available');

    let version = `ClamAV 1.0.7/1/${new Date(clock.now().getTime() - 3_600_000).toUTCString().replace(' GMT', '')}`;
    const scripted: Scanner = {
      engine: 'clamd',
      scan: (body: Readable, o) => k.services.scanner.scan(body, o),
      ping: () => k.services.scanner.ping(),
      version: () => Promise.resolve(version),
    };
    const monitor = new SignatureMonitor({
      db: k.services.database.db,
      database: k.services.database,
      clock,
      audit: k.services.audit,
      jobs: k.services.jobs,
      scanner: scripted,
      maxAgeHours: 24,
    });
    const first = await monitor.check();
    expect(first).toMatchObject({ signatureVersion: 1, stale: false, updated: false, rescansQueued: 0 });

    // The new signature reaches clamd (RELOAD), then VERSION reports the new database version.
    writeFileSync(join(dir, 'clamd', 'db', 'rescan.ndb'), `Kura.Test.Rescan:0:*:${Buffer.from(TOKEN).toString('hex')}\n`);
    expect(await ask(sup.socket, 'RELOAD')).toBe('RELOADING');
    await expect
      .poll(async () => (await k.services.scanner.scan(Readable.from([Buffer.from(TOKEN)]))).result, { timeout: 30_000 })
      .toBe('infected');
    version = version.replace('/1/', '/2/');
    const second = await monitor.check();
    expect(second).toMatchObject({ signatureVersion: 2, updated: true });
    expect(second.rescansQueued).toBeGreaterThanOrEqual(2);
    await runJobs();

    const bad = (await staff.client.get(`/api/v1/files/${laterBad}`)).body.latest;
    expect(bad).toMatchObject({ state: 'quarantined', scan: { signature: expect.stringContaining('Kura.Test.Rescan') } });
    expect((await staff.client.get(`/api/v1/files/${laterBad}/content`)).status).toBe(409);
    expect((await staff.client.get(`/api/v1/files/${good}`)).body.latest.state).toBe('available');
    const events = await k.services.auditRepository.latestEvents(tenant.id, 100);
    const q = events.find((e) => e.action === 'file.quarantined' && e.target_id === laterBad);
    expect(JSON.parse(String(q?.details))).toMatchObject({ rescan: true });
    expect(events.some((e) => e.action === 'file.rescanned' && e.target_id === good)).toBe(true);
    for (const who of [staff, admin]) {
      const n = await k.services.notifications.list(tenant.id, who.id);
      expect(n.some((x) => x.kind === 'file.quarantined' && JSON.parse(x.params).rescan === true)).toBe(true);
    }
    const sys = await k.services.auditRepository.latestEvents(SYSTEM_TENANT_ID, 50);
    expect(sys.some((e) => e.action === 'malware.signatures_updated')).toBe(true);

    // Stale signatures: one fault event, not one per hourly check.
    version = `ClamAV 1.0.7/2/${new Date(clock.now().getTime() - 3 * 24 * 3_600_000).toUTCString().replace(' GMT', '')}`;
    expect(await monitor.check()).toMatchObject({ stale: true });
    clock.advance(3_600_000);
    await monitor.check();
    const stale = (await k.services.auditRepository.latestEvents(SYSTEM_TENANT_ID, 50)).filter(
      (e) => e.action === 'malware.signatures_stale',
    );
    expect(stale).toHaveLength(1);
    expect(stale[0]!.outcome).toBe('error');
    // The metric reads the same monitor the hourly job uses.
    await k.services.signatures.check();

    // Nothing scanned for 30 days: queued by the daily sweep.
    clock.advance(31 * 24 * 3_600_000);
    expect(await monitor.queueDue()).toBeGreaterThanOrEqual(1);
    expect(await monitor.queueDue()).toBe(0);
  }, 90_000);

  it('exposes scan metrics: verdicts, backlog and signature age [MAL-02]', async () => {
    const text = await k.services.metrics.registry.metrics();
    expect(text).toMatch(/kura_scan_verdicts_total\{result="infected"\} [1-9]/);
    expect(text).toMatch(/kura_scan_verdicts_total\{result="clean"\} [1-9]/);
    expect(text).toMatch(/kura_scan_backlog \d+/);
    expect(text).toContain('kura_scan_duration_seconds_count');
  });

  it('queues every file of the window after an update, newest first in pages, and records the version only once all are queued [MAL-04]', async () => {
    await freshMembers();
    const files: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(60_000);
      files.push(await upload(`page-${i}.txt`, Buffer.from(`page ${i} harmless`)));
    }
    await runJobs();
    const versions = await Promise.all(
      files.map(async (f) => (await staff.client.get(`/api/v1/files/${f}`)).body.latest.id as string),
    );
    const newestFirst = [...versions].reverse();
    const before = await recordedSignatureVersion();
    expect(before).toBe('2');

    // The check dies after the first page of two (its third enqueue fails): nothing of the update is recorded yet.
    let enqueues = 0;
    const failing = Object.assign(Object.create(k.services.jobs) as JobQueue, {
      enqueue: (...args: Parameters<JobQueue['enqueue']>) => {
        if (++enqueues > 2) return Promise.reject(new Error('SQLITE_BUSY: database is locked'));
        return k.services.jobs.enqueue(...args);
      },
    });
    await expect(monitorAt(() => 3, { jobs: failing, rescanBatch: 2 }).check()).rejects.toThrow(/SQLITE_BUSY/);
    expect(await rescansFor(3)).toEqual(newestFirst.slice(0, 2).sort());
    expect(await recordedSignatureVersion()).toBe('2');

    // The next check sees the update again and queues the rest, page by page.
    const resumed = await monitorAt(() => 3, { rescanBatch: 2 }).check();
    expect(resumed).toMatchObject({ updated: true, rescansQueued: 3 });
    expect(await rescansFor(3)).toEqual([...versions].sort());
    expect(await recordedSignatureVersion()).toBe('3');
    const updates = (await k.services.auditRepository.latestEvents(SYSTEM_TENANT_ID, 50)).filter(
      (e) => e.action === 'malware.signatures_updated' && JSON.parse(e.details).to === 3,
    );
    expect(updates).toHaveLength(1);
    expect(await monitorAt(() => 3, { rescanBatch: 2 }).check()).toMatchObject({ updated: false, rescansQueued: 0 });
    await runJobs();
    for (const f of files) expect((await staff.client.get(`/api/v1/files/${f}`)).body.latest.state).toBe('available');
  }, 90_000);

  it('keeps a released encrypted archive available on rescans: a record, no quarantine, no notices [MAL-04, MAL-05]', async () => {
    await freshMembers();
    const id = await upload('暗号化.zip', await encryptedZip());
    await runJobs();
    const held = (await staff.client.get(`/api/v1/files/${id}`)).body.latest;
    expect(held).toMatchObject({ state: 'blocked', holdReason: 'encrypted' });
    await k.services.quarantine.release(
      { type: 'user', id: admin.id, tenantId: tenant.id as TenantId },
      held.id,
      '差出人に電話でパスワード付きであることを確認済み',
    );
    expect((await staff.client.get(`/api/v1/files/${id}`)).body.latest.state).toBe('available');
    await runJobs();

    for (const n of [4, 5]) {
      const r = await monitorAt(() => n).check();
      expect(r).toMatchObject({ updated: true });
      expect(await rescansFor(n)).toContain(held.id);
      await runJobs();
      const now = (await staff.client.get(`/api/v1/files/${id}`)).body.latest;
      expect(now).toMatchObject({
        state: 'available',
        holdReason: 'encrypted',
        scan: { signature: expect.stringMatching(/Encrypted/) },
      });
    }
    const events = (await k.services.auditRepository.latestEvents(tenant.id, 200)).filter((e) => e.target_id === id);
    expect(events.filter((e) => e.action === 'file.quarantined')).toHaveLength(0);
    const rescans = events.filter((e) => e.action === 'file.rescanned');
    expect(rescans).toHaveLength(2);
    expect(JSON.parse(rescans[0]!.details)).toMatchObject({
      result: 'encrypted',
      signature: expect.stringMatching(/Heuristics\.Encrypted/),
    });
    for (const who of [staff, admin]) {
      const n = await k.services.notifications.list(tenant.id, who.id);
      expect(n.filter((x) => x.kind === 'file.quarantined' && JSON.parse(x.params).fileId === id)).toHaveLength(0);
    }
  }, 90_000);

  it('keeps a file released as a false positive when a rescan finds the same signature; a different signature quarantines it again [MAL-04, MAL-03]', async () => {
    await freshMembers();
    const same = `KURA-FALSEPOS-${process.pid}-${Date.now()}-REVIEWED`;
    const renamed = `KURA-RENAMED-${process.pid}-${Date.now()}-DETECTION`;
    const hex = (s: string) => Buffer.from(s).toString('hex');
    /** Installs the false-positive signatures and waits until clamd answers with `expected` for the second file's content. */
    const signatures = async (second: string, expected: RegExp) => {
      writeFileSync(
        join(dir, 'clamd', 'db', 'false-positive.ndb'),
        `Kura.Test.FalsePositive:0:*:${hex(same)}\n${second}:0:*:${hex(renamed)}\n`,
      );
      expect(await ask(sup.socket, 'RELOAD')).toBe('RELOADING');
      await expect
        .poll(
          async () => {
            const v = await k.services.scanner.scan(Readable.from([Buffer.from(renamed)]));
            return v.result === 'infected' ? v.signature : v.result;
          },
          { timeout: 30_000 },
        )
        .toMatch(expected);
    };
    await signatures('Kura.Test.Renamed.Old', /Kura\.Test\.Renamed\.Old/);
    const reviewed = await upload('reviewed.txt', Buffer.from(`minutes ${same} end`));
    const changed = await upload('changed.txt', Buffer.from(`minutes ${renamed} end`));
    await runJobs();
    const actor = { type: 'user' as const, id: admin.id, tenantId: tenant.id as TenantId };
    for (const [id, signature] of [
      [reviewed, /Kura\.Test\.FalsePositive/],
      [changed, /Kura\.Test\.Renamed\.Old/],
    ] as const) {
      const latest = (await staff.client.get(`/api/v1/files/${id}`)).body.latest;
      expect(latest).toMatchObject({ state: 'quarantined', scan: { signature: expect.stringMatching(signature) } });
      await k.services.quarantine.release(actor, latest.id, '誤検知であることを確認済み（検出名を確認）');
      expect((await staff.client.get(`/api/v1/files/${id}`)).body.latest.state).toBe('available');
    }
    await runJobs();

    // A signature update: the first file's signature is unchanged, the second file is now found by another one.
    await signatures('Kura.Test.Renamed.New', /Kura\.Test\.Renamed\.New/);
    const versionIds = await Promise.all(
      [reviewed, changed].map(async (id) => (await staff.client.get(`/api/v1/files/${id}`)).body.latest.id as string),
    );
    expect(await monitorAt(() => 6).check()).toMatchObject({ updated: true });
    expect(await rescansFor(6)).toEqual(expect.arrayContaining(versionIds));
    await runJobs();

    const kept = (await staff.client.get(`/api/v1/files/${reviewed}`)).body.latest;
    expect(kept).toMatchObject({
      state: 'available',
      scan: { signature: expect.stringMatching(/Kura\.Test\.FalsePositive/) },
      released: { reason: expect.any(String) },
    });
    expect((await staff.client.get(`/api/v1/files/${reviewed}/content`)).status).toBe(200);
    const again = (await staff.client.get(`/api/v1/files/${changed}`)).body.latest;
    expect(again).toMatchObject({ state: 'quarantined', scan: { signature: expect.stringMatching(/Kura\.Test\.Renamed\.New/) } });

    const events = await k.services.auditRepository.latestEvents(tenant.id, 300);
    const of = (id: string, action: string) => events.filter((e) => e.target_id === id && e.action === action);
    expect(of(reviewed, 'file.quarantined')).toHaveLength(1);
    const rescanned = of(reviewed, 'file.rescanned');
    expect(rescanned).toHaveLength(1);
    expect(JSON.parse(rescanned[0]!.details)).toMatchObject({
      result: 'infected',
      signature: expect.stringMatching(/Kura\.Test\.FalsePositive/),
      reviewed: true,
    });
    const requarantined = of(changed, 'file.quarantined');
    expect(requarantined).toHaveLength(2);
    expect(JSON.parse(requarantined[0]!.details)).toMatchObject({
      rescan: true,
      signature: expect.stringMatching(/Kura\.Test\.Renamed\.New/),
    });
    for (const who of [staff, admin]) {
      const n = (await k.services.notifications.list(tenant.id, who.id)).filter((x) => x.kind === 'file.quarantined');
      expect(n.filter((x) => JSON.parse(x.params).fileId === reviewed)).toHaveLength(1);
      expect(n.filter((x) => JSON.parse(x.params).fileId === changed && JSON.parse(x.params).rescan === true)).toHaveLength(1);
    }
  }, 90_000);
});

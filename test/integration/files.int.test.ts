/**
 * The files capability over HTTP on both engines and both blob stores (SQLite + local directory,
 * PostgreSQL + Ceph RGW S3), with the real clamd and its EICAR test signatures.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { systemActor } from '../../src/core/types.js';
import { randomBytes, randomId, sha256Hex } from '../../src/crypto/primitives.js';
import type { AppError } from '../../src/core/errors.js';
import { FileRepository } from '../../src/files/file.repository.js';
import { buildServer, type App } from '../../src/http/server.js';
import { Worker } from '../../src/jobs/worker.js';
import { blobKey } from '../../src/storage/blob-store.js';
import type { Client } from '../support/http-client.js';
import { createTestKura, type TestKura } from '../support/kura.js';
import { Members, multipartBody, type Member, type TestTenant } from '../support/members.js';
import { s3ObjectsContaining } from '../support/s3.js';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const clock = new ManualClock(new Date('2026-11-26T01:00:00.000Z'));
let k: TestKura;
let lgwan: App;
let m: Members;
let tenant: TestTenant;
let owner: Member;
let colleague: Member;

beforeAll(async () => {
  if (!process.env.KURA_TEST_CLAMD && process.env.CI)
    throw new Error('KURA_TEST_CLAMD is not set: the scan gate needs the test clamd');
  k = await createTestKura({ clock });
  lgwan = await buildServer(k.services, { zone: 'lgwan', webUi: false });
  await lgwan.ready();
  m = new Members(k, lgwan, clock);
  tenant = await m.tenant();
  owner = await m.member(tenant);
  colleague = await m.member(tenant);
}, 60_000);
afterAll(async () => {
  await lgwan?.close();
  await k?.close();
});

/** Runs every due job (scans, re-wraps) until none is left. */
async function runJobs(): Promise<void> {
  const w = new Worker(k.services.jobs, { id: 'test', handlers: k.services.jobHandlers });
  while (await w.runOnce());
}

async function folder(c: Client, name: string, parentId: string | null = null): Promise<string> {
  const r = await c.post('/api/v1/folders', { parentId, name });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.id;
}

async function upload(c: Client, folderId: string, name: string, content: Buffer, query = '') {
  const { payload, contentType } = multipartBody(name, content);
  return c.send('POST', `/api/v1/folders/${folderId}/files${query}`, payload, { 'content-type': contentType });
}

async function uploadClean(c: Client, folderId: string, name: string, content: Buffer): Promise<string> {
  const r = await upload(c, folderId, name, content);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  await runJobs();
  return r.body.id;
}

async function events(tenantId: string, n = 20) {
  return k.services.auditRepository.latestEvents(tenantId, n);
}

describe(`files on ${process.env.KURA_TEST_DB ?? 'sqlite'}`, () => {
  it('holds an upload until clamd says clean, then serves it with its SHA-256, a Japanese file name and safe headers [MAL-01] [TLS-02]', async () => {
    const f = await folder(owner.client, '住民課');
    const content = randomBytes(200_000);
    const up = await upload(owner.client, f, '転入届 2026年度.pdf', content);
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body.latest).toMatchObject({ state: 'held', size: content.length, sha256: sha256Hex(content), version: 1 });
    const early = await owner.client.get(`/api/v1/files/${up.body.id}/content`);
    expect([early.status, early.body.error.code]).toEqual([409, 'file.not_available']);

    await runJobs();
    const detail = await owner.client.get(`/api/v1/files/${up.body.id}`);
    expect(detail.body.latest.state, JSON.stringify(detail.body.latest)).toBe('available');
    expect(detail.body.latest.scan).toMatchObject({ engine: 'clamd', result: 'clean' });
    expect(detail.body.latest.scan.engineVersion).toMatch(/^ClamAV/);

    const d = await owner.client.send('GET', `/api/v1/files/${up.body.id}/content`, '');
    expect(d.status).toBe(200);
    expect(d.raw.equals(content)).toBe(true);
    expect(d.headers['content-disposition']).toContain(`filename*=UTF-8''${encodeURIComponent('転入届 2026年度.pdf')}`);
    expect(d.headers['content-disposition']).toMatch(/^attachment;/);
    expect(d.headers['x-content-type-options']).toBe('nosniff');
    expect(d.headers['cache-control']).toBe('no-store');
    expect(d.headers['x-kura-sha256']).toBe(sha256Hex(content));
    expect(d.headers.etag).toBe(`"${detail.body.latest.id}"`);
    const actions = (await events(tenant.id)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['file.uploaded', 'file.scan_clean', 'file.downloaded']));
  });

  it('quarantines an upload carrying the EICAR test signature and never serves it [MAL-01]', async () => {
    const f = await folder(owner.client, '受付');
    const up = await upload(owner.client, f, 'invoice.txt', Buffer.from(EICAR));
    expect(up.status).toBe(201);
    await runJobs();
    const detail = await owner.client.get(`/api/v1/files/${up.body.id}`);
    expect(detail.body.latest).toMatchObject({ state: 'quarantined' });
    expect(detail.body.latest.scan.signature).toMatch(/Kura\.Test\.Eicar/);
    const d = await owner.client.get(`/api/v1/files/${up.body.id}/content`);
    expect([d.status, d.body.error.code]).toEqual([409, 'file.not_available']);
    const v1 = await owner.client.get(`/api/v1/files/${up.body.id}/content?version=1`);
    expect(v1.status).toBe(409);
    const copy = await owner.client.post(`/api/v1/files/${up.body.id}/copy`, { folderId: f });
    expect([copy.status, copy.body.error.code]).toEqual([409, 'file.not_available']);
    const q = (await events(tenant.id)).find((e) => e.action === 'file.quarantined');
    expect(q?.target_id).toBe(up.body.id);
  });

  it('keeps a file held while the scanner is unreachable, records the fault and retries later [MAL-01]', async () => {
    const { ScanGate } = await import('../../src/malware/scan-gate.service.js');
    const { ClamdScanner } = await import('../../src/malware/clamd-scanner.js');
    const { FileRepository } = await import('../../src/files/file.repository.js');
    const { NotificationRepository } = await import('../../src/notifications/notification.repository.js');
    const f = await folder(owner.client, '保留');
    const up = await upload(owner.client, f, 'a.txt', Buffer.from('hello'));
    const versionId = (await owner.client.get(`/api/v1/files/${up.body.id}`)).body.latest.id;
    const down = new ScanGate({
      database: k.services.database,
      clock,
      audit: k.services.audit,
      files: new FileRepository(k.services.database.db),
      vault: k.services.vault,
      scanner: new ClamdScanner('tcp://127.0.0.1:1', { timeoutMs: 2000 }),
      policy: k.services.tenantPolicy,
      jobs: k.services.jobs,
      notifications: new NotificationRepository(k.services.database.db),
      users: k.services.userRepository,
    });
    await expect(down.scanVersion(tenant.id, versionId)).rejects.toThrow(/unreachable/);
    const detail = await owner.client.get(`/api/v1/files/${up.body.id}`);
    expect(detail.body.latest).toMatchObject({ state: 'held' });
    expect(detail.body.latest.scan.attempts).toBe(1);
    expect((await events(tenant.id)).find((e) => e.action === 'file.scan_failed')?.outcome).toBe('error');
    // The real scanner later releases it.
    await runJobs();
    expect((await owner.client.get(`/api/v1/files/${up.body.id}`)).body.latest.state).toBe('available');
  });

  it('answers byte ranges with 206 across segment boundaries, 416 outside the file, and the whole file for several ranges', async () => {
    const f = await folder(owner.client, '範囲');
    const content = randomBytes(3 * 65536 + 1234);
    const id = await uploadClean(owner.client, f, 'big.bin', content);
    const get = (range: string) => owner.client.send('GET', `/api/v1/files/${id}/content`, '', { range });
    const mid = await get('bytes=65000-131500');
    expect(mid.status).toBe(206);
    expect(mid.headers['content-range']).toBe(`bytes 65000-131500/${content.length}`);
    expect(mid.raw.equals(content.subarray(65000, 131501))).toBe(true);
    const tail = await get('bytes=-100');
    expect(tail.raw.equals(content.subarray(content.length - 100))).toBe(true);
    const past = await get(`bytes=${content.length}-`);
    expect([past.status, past.body.error.code]).toEqual([416, 'download.range_invalid']);
    const multi = await get('bytes=0-10,500-600');
    expect(multi.status).toBe(200);
    expect(multi.raw.length).toBe(content.length);
    // A resumed download (If-Range) gets the range only while the ETag is still the one it started
    // with; for anything else (another version, a weak tag, a date) the whole file, never a mix.
    const etag = String(mid.headers.etag);
    const resume = (ifRange: string) =>
      owner.client.send('GET', `/api/v1/files/${id}/content`, '', { range: 'bytes=100-', 'if-range': ifRange });
    const same = await resume(etag);
    expect([same.status, same.raw.equals(content.subarray(100))]).toEqual([206, true]);
    for (const other of ['"another-version"', `W/${etag}`, 'Thu, 26 Nov 2026 01:00:00 GMT']) {
      const r = await resume(other);
      expect([r.status, r.raw.length, r.headers['content-range']], other).toEqual([200, content.length, undefined]);
    }
  });

  it('normalises names to NFC, refuses unsafe names and resolves case-insensitive duplicates by error or "keep both"', async () => {
    const f = await folder(owner.client, '名前');
    for (const bad of ['a/b', 'a\\b', '..', '.', 'tab\there', 'x'.repeat(256), 'rtl\u202Etxt.exe', ' space']) {
      const r = await owner.client.post('/api/v1/folders', { parentId: f, name: bad });
      expect([r.status, r.body.error.code], bad).toEqual([400, 'name.invalid']);
    }
    const nfd = 'ﾃﾞｰﾀ'.normalize('NFD') + 'が'.normalize('NFD');
    const created = await owner.client.post('/api/v1/folders', { parentId: f, name: nfd });
    expect(created.body.name).toBe(nfd.normalize('NFC'));
    await uploadClean(owner.client, f, 'Report.docx', Buffer.from('one'));
    const dup = await upload(owner.client, f, 'REPORT.docx', Buffer.from('two'));
    expect([dup.status, dup.body.error.code]).toEqual([409, 'name.taken']);
    const both = await upload(owner.client, f, 'REPORT.docx', Buffer.from('two'), '?onConflict=keep_both');
    expect(both.status).toBe(201);
    expect(both.body.name).toBe('REPORT (2).docx');
  });

  it('adds versions; the newest clean version is served while a newer one is still held', async () => {
    const f = await folder(owner.client, '版');
    const id = await uploadClean(owner.client, f, 'plan.txt', Buffer.from('version one'));
    const { payload, contentType } = multipartBody('plan.txt', Buffer.from('version two'));
    const v2 = await owner.client.send('POST', `/api/v1/files/${id}/versions`, payload, { 'content-type': contentType });
    expect(v2.status, JSON.stringify(v2.body)).toBe(201);
    expect(v2.body).toMatchObject({ latest: { version: 2, state: 'held' }, availableVersion: 1 });
    expect((await owner.client.send('GET', `/api/v1/files/${id}/content`, '')).raw.toString()).toBe('version one');
    await runJobs();
    expect((await owner.client.send('GET', `/api/v1/files/${id}/content`, '')).raw.toString()).toBe('version two');
    expect((await owner.client.send('GET', `/api/v1/files/${id}/content?version=1`, '')).raw.toString()).toBe('version one');
    expect((await owner.client.get(`/api/v1/files/${id}`)).body.versions.map((v: { version: number }) => v.version)).toEqual([
      2, 1,
    ]);
  });

  it('renames, moves, copies, trashes, restores and purges, removing the blob only when nothing uses it', async () => {
    const a = await folder(owner.client, '移動元');
    const b = await folder(owner.client, '移動先');
    const id = await uploadClean(owner.client, a, 'memo.txt', Buffer.from('memo'));
    expect((await owner.client.req('PATCH', `/api/v1/files/${id}`, { name: 'メモ.txt' })).body.name).toBe('メモ.txt');
    expect((await owner.client.req('PATCH', `/api/v1/files/${id}`, { folderId: b })).body.folderId).toBe(b);
    const copy = await owner.client.post(`/api/v1/files/${id}/copy`, { folderId: b });
    expect(copy.status).toBe(201);
    expect(copy.body).toMatchObject({ name: 'メモ (2).txt', latest: { state: 'available' } });
    const blobId = (
      await k.services.database.db
        .selectFrom('file_versions')
        .select('blob_id')
        .where('file_id', '=', id)
        .executeTakeFirstOrThrow()
    ).blob_id;
    const key = blobKey(tenant.id, blobId);

    expect((await owner.client.req('DELETE', `/api/v1/files/${id}`)).status).toBe(204);
    expect((await owner.client.get(`/api/v1/files/${id}`)).status).toBe(404);
    const listed = (await owner.client.get('/api/v1/trash')).body;
    expect(listed.trashDays).toBe(30);
    expect(listed.items.find((i: { id: string }) => i.id === id)).toMatchObject({
      kind: 'file',
      name: 'メモ.txt',
      parent: { id: b },
    });
    expect((await owner.client.post(`/api/v1/files/${id}/restore`, {})).status).toBe(200);
    expect((await owner.client.get(`/api/v1/files/${id}`)).status).toBe(200);

    // Purging the original keeps the shared blob for the copy; purging the copy removes it.
    await owner.client.req('DELETE', `/api/v1/files/${id}`);
    expect((await owner.client.req('DELETE', `/api/v1/trash/file/${id}`)).status).toBe(204);
    expect(await k.services.blobStore.exists(key)).toBe(true);
    await owner.client.req('DELETE', `/api/v1/files/${copy.body.id}`);
    await owner.client.req('DELETE', `/api/v1/trash/file/${copy.body.id}`);
    expect(await k.services.blobStore.exists(key)).toBe(false);
    const actions = (await events(tenant.id, 40)).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['file.renamed', 'file.moved', 'file.copied', 'file.deleted', 'file.restored', 'file.purged']),
    );
  });

  it('refuses to restore into a folder that is itself in the trash, and restores once it is back', async () => {
    const parent = await folder(owner.client, '親フォルダー');
    const child = await folder(owner.client, '子フォルダー', parent);
    const id = await uploadClean(owner.client, parent, 'note.txt', Buffer.from('note'));
    // The child first, then the file, then the parent: all three are in the trash list.
    expect((await owner.client.req('DELETE', `/api/v1/folders/${child}`)).status).toBe(204);
    expect((await owner.client.req('DELETE', `/api/v1/files/${id}`)).status).toBe(204);
    expect((await owner.client.req('DELETE', `/api/v1/folders/${parent}`)).status).toBe(204);
    const listed = (await owner.client.get('/api/v1/trash')).body.items.map((i: { id: string }) => i.id);
    expect(listed).toEqual(expect.arrayContaining([child, parent]));
    for (const url of [`/api/v1/folders/${child}/restore`, `/api/v1/files/${id}/restore`]) {
      const r = await owner.client.post(url, {});
      expect([r.status, r.body.error?.code], url).toEqual([409, 'folder.parent_in_trash']);
    }
    // Nothing changed: still in the trash, no restore event.
    expect((await owner.client.get(`/api/v1/folders/${child}`)).status).toBe(404);
    expect((await events(tenant.id, 5)).map((e) => e.action)).not.toContain('folder.restored');
    // With the parent back, both come back where they were.
    expect((await owner.client.post(`/api/v1/folders/${parent}/restore`, {})).status).toBe(200);
    expect((await owner.client.post(`/api/v1/folders/${child}/restore`, {})).status).toBe(200);
    expect((await owner.client.post(`/api/v1/files/${id}/restore`, {})).status).toBe(200);
    const contents = (await owner.client.get(`/api/v1/folders/${parent}`)).body;
    expect(contents.folders.map((f: { id: string }) => f.id)).toContain(child);
    expect(contents.files.map((f: { id: string }) => f.id)).toContain(id);
  });

  it('purges a folder and everything in it after the trash period', async () => {
    const top = await folder(owner.client, '古い資料');
    const sub = await folder(owner.client, '2019', top);
    const id = await uploadClean(owner.client, sub, 'old.txt', Buffer.from('old'));
    expect((await owner.client.req('DELETE', `/api/v1/folders/${top}`)).status).toBe(204);
    expect((await owner.client.get(`/api/v1/files/${id}`)).status).toBe(404);
    expect(await k.services.trash.purgeExpired(tenant.id)).toBe(0);
    clock.advance(31 * 86_400_000);
    expect(await k.services.trash.purgeExpired(tenant.id)).toBeGreaterThanOrEqual(1);
    expect(await k.services.database.db.selectFrom('files').select('id').where('id', '=', id).executeTakeFirst()).toBeUndefined();
    expect(
      await k.services.database.db.selectFrom('folders').select('id').where('id', '=', sub).executeTakeFirst(),
    ).toBeUndefined();
    // A month went by: the sessions of the shared members timed out.
    owner.client = await m.signIn(owner);
    colleague.client = await m.signIn(colleague);
  });

  it('shares a folder with a colleague and a group; roles are inherited and enforced; revoking hides it again [AC-05]', async () => {
    const top = await folder(owner.client, '企画課');
    const sub = await folder(owner.client, '会議資料', top);
    const id = await uploadClean(owner.client, sub, 'agenda.txt', Buffer.from('agenda'));
    expect((await colleague.client.get(`/api/v1/folders/${sub}`)).status).toBe(404);

    const g = await owner.client.post(`/api/v1/folders/${top}/permissions`, {
      subjectType: 'user',
      subjectId: colleague.id,
      role: 'viewer',
    });
    expect(g.status, JSON.stringify(g.body)).toBe(200);
    const roots = (await colleague.client.get('/api/v1/folders/roots')).body.folders;
    expect(roots.map((r: { id: string }) => r.id)).toContain(top);
    expect(roots.map((r: { id: string }) => r.id)).not.toContain(sub);
    expect((await colleague.client.get(`/api/v1/folders/${sub}`)).body.folder.role).toBe('viewer');
    expect((await colleague.client.send('GET', `/api/v1/files/${id}/content`, '')).raw.toString()).toBe('agenda');
    const denied = await upload(colleague.client, sub, 'x.txt', Buffer.from('x'));
    expect([denied.status, denied.body.error.code]).toEqual([403, 'folder.forbidden']);
    expect((await colleague.client.req('DELETE', `/api/v1/files/${id}`)).status).toBe(403);
    expect(
      (
        await colleague.client.post(`/api/v1/folders/${top}/permissions`, {
          subjectType: 'user',
          subjectId: colleague.id,
          role: 'manager',
        })
      ).status,
    ).toBe(403);

    // A group grant on the subfolder raises the colleague to editor there.
    const admin = await m.member(tenant, 'tenant_admin');
    const grp = await admin.client.post('/api/v1/admin/groups', { name: '企画係', memberIds: [colleague.id] });
    expect(grp.status, JSON.stringify(grp.body)).toBe(201);
    await owner.client.post(`/api/v1/folders/${sub}/permissions`, {
      subjectType: 'group',
      subjectId: grp.body.id,
      role: 'editor',
    });
    expect((await upload(colleague.client, sub, 'x.txt', Buffer.from('x'))).status).toBe(201);
    const listing = (await colleague.client.get(`/api/v1/folders/${top}`)).body;
    expect([listing.folder.role, listing.folders.find((x: { id: string }) => x.id === sub).role]).toEqual(['viewer', 'editor']);
    const perms = (await colleague.client.get(`/api/v1/folders/${sub}/permissions`)).body;
    expect(perms.grants.find((x: { subjectType: string }) => x.subjectType === 'user')).toMatchObject({
      inheritedFrom: { id: top },
    });

    const userGrant = perms.grants.find((x: { subjectType: string }) => x.subjectType === 'user');
    await owner.client.req('DELETE', `/api/v1/folders/${top}/permissions/${userGrant.id}`);
    expect((await colleague.client.get(`/api/v1/folders/${top}`)).status).toBe(404);
    const onlySub = await colleague.client.get(`/api/v1/folders/${sub}`);
    expect(onlySub.status).toBe(200);
    // The folder above, no longer shared, is not even named in the path.
    expect(onlySub.body.path).toEqual([{ id: sub, name: '会議資料' }]);
    expect((await owner.client.get(`/api/v1/folders/${sub}`)).body.path.map((p: { name: string }) => p.name)).toEqual([
      '企画課',
      '会議資料',
    ]);
    const actions = (await events(tenant.id, 60)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['folder.permission_granted', 'folder.permission_revoked', 'group.created']));
  });

  it('refuses an upload over the user quota with 413 before storing anything', async () => {
    const t = await m.tenant({ files: { tenantQuotaBytes: 0, userQuotaBytes: 1000, trashDays: 30 } });
    const u = await m.member(t);
    const f = await folder(u.client, 'q');
    const blobsBefore = await k.services.database.db.selectFrom('blobs').select('id').where('tenant_id', '=', t.id).execute();
    const r = await upload(u.client, f, 'big.bin', randomBytes(5000));
    expect([r.status, r.body.error.code]).toEqual([413, 'quota.exceeded']);
    expect(await k.services.database.db.selectFrom('blobs').select('id').where('tenant_id', '=', t.id).execute()).toEqual(
      blobsBefore,
    );
    expect((await upload(u.client, f, 'small.bin', randomBytes(500))).status).toBe(201);
    const quota = (await u.client.get('/api/v1/quota')).body;
    expect(quota.user).toEqual({ usedBytes: 500, limitBytes: 1000 });
    // tus: the declared length is checked at creation.
    const tus = await u.client.send('POST', '/api/v1/uploads', '', {
      'tus-resumable': '1.0.0',
      'upload-length': '600',
      'upload-metadata': `filename ${Buffer.from('t.bin').toString('base64')},folderId ${Buffer.from(f).toString('base64')}`,
    });
    expect([tus.status, tus.body.error.code]).toEqual([413, 'quota.exceeded']);
  });

  it('copies made at the same time cannot together pass the quota', async () => {
    const t = await m.tenant({ files: { tenantQuotaBytes: 0, userQuotaBytes: 1000, trashDays: 30 } });
    const u = await m.member(t);
    const f = await folder(u.client, 'q2');
    const id = await uploadClean(u.client, f, 'a.bin', randomBytes(400));
    // 400 used, 600 free: one more copy fits, a second would not.
    const tries = await Promise.all(
      Array.from({ length: 4 }, (_, i) => u.client.post(`/api/v1/files/${id}/copy`, { folderId: f, name: `c${i}.bin` })),
    );
    expect(tries.map((r) => r.status).sort()).toEqual([201, 413, 413, 413]);
    expect((await u.client.get('/api/v1/quota')).body.user).toEqual({ usedBytes: 800, limitBytes: 1000 });
  });

  it('re-wraps every data key after a KEK rotation; files stay readable throughout [ENC-03]', async () => {
    const t = await m.tenant();
    const u = await m.member(t);
    const admin = await m.member(t, 'tenant_admin');
    const f = await folder(u.client, '鍵');
    const id = await uploadClean(u.client, f, 'k.txt', Buffer.from('before rotation'));
    const step = await admin.client.post('/api/v1/admin/keys/rotate');
    expect(step.status === 200 || step.body.error.code === 'auth.step_up_required').toBe(true);
    await k.services.keyRotation.rotate(systemActor(t.id), t.id);
    const status = await k.services.keyRotation.status(t.id);
    expect(status.activeVersion).toBeGreaterThanOrEqual(2);
    expect(status.pendingBlobs).toBe(1);
    expect((await u.client.send('GET', `/api/v1/files/${id}/content`, '')).raw.toString()).toBe('before rotation');
    await runJobs();
    expect((await k.services.keyRotation.status(t.id)).pendingBlobs).toBe(0);
    expect((await u.client.send('GET', `/api/v1/files/${id}/content`, '')).raw.toString()).toBe('before rotation');
    const actions = (await events(t.id, 40)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['tenant.key_rotated', 'tenant.key_rewrapped']));
  });

  it('re-wraps TOTP secrets and unfinished uploads too, and passes over a key that fails instead of stopping [ENC-03]', async () => {
    const t = await m.tenant();
    const u = await m.member(t);
    const f = await folder(u.client, '鍵2');
    const good = await uploadClean(u.client, f, 'a.txt', Buffer.from('kept readable'));
    const broken = await uploadClean(u.client, f, 'b.txt', Buffer.from('key damaged'));
    // An upload begun before the rotation and finished after it.
    const body = Buffer.from('finished after the rotation');
    const created = await u.client.send('POST', '/api/v1/uploads', '', {
      'tus-resumable': '1.0.0',
      'upload-length': String(body.length),
      'upload-metadata': `filename ${Buffer.from('c.txt').toString('base64')},folderId ${Buffer.from(f).toString('base64')}`,
    });
    expect(created.status).toBe(201);
    const db = k.services.database.db;
    const brokenBlob = (
      await db.selectFrom('file_versions').select('blob_id').where('file_id', '=', broken).executeTakeFirstOrThrow()
    ).blob_id;
    await db
      .updateTable('blobs')
      .set({ wrapped_dek: Buffer.alloc(60, 7) })
      .where('id', '=', brokenBlob)
      .execute();

    await k.services.keyRotation.rotate(systemActor(t.id), t.id);
    expect(await k.services.keyRotation.status(t.id)).toMatchObject({ pendingBlobs: 2, pendingSecrets: 2 });
    expect(await k.services.keyRotation.rewrap(t.id)).toBe(3);
    // The damaged key stays where it was and is reported; everything else moved.
    expect(await k.services.keyRotation.status(t.id)).toMatchObject({ pendingBlobs: 1, pendingSecrets: 0 });
    const [ev] = (await events(t.id, 40)).filter((e) => e.action === 'tenant.key_rewrapped');
    expect(ev).toMatchObject({ outcome: 'error', reason: 'keys.rewrap_failed' });
    expect(JSON.parse(ev!.details)).toMatchObject({ keys: 3, failed: 1, firstFailed: [`blob:${brokenBlob}`] });
    // The TOTP secret and the unfinished upload still work under the new key.
    await m.signIn(u);
    const location = String(created.headers.location);
    const patched = await u.client.send('PATCH', location, body, {
      'tus-resumable': '1.0.0',
      'upload-offset': '0',
      'content-type': 'application/offset+octet-stream',
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(204);
    await runJobs();
    const listing = (await u.client.get(`/api/v1/folders/${f}`)).body.files as Array<{ id: string; name: string }>;
    const late = listing.find((x) => x.name === 'c.txt')!;
    expect((await u.client.send('GET', `/api/v1/files/${late.id}/content`, '')).raw.toString()).toBe(body.toString());
    expect((await u.client.send('GET', `/api/v1/files/${good}/content`, '')).raw.toString()).toBe('kept readable');
  });

  it('destroys a retired key version only once nothing can need it; never the active one; files stay readable [ENC-03]', async () => {
    const t = await m.tenant();
    const u = await m.member(t);
    const f = await folder(u.client, '鍵3');
    const id = await uploadClean(u.client, f, 'd.txt', Buffer.from('outlives its first key'));
    const keys = k.services.keyRotation;
    const actor = systemActor(t.id);
    const refused = (version: number) =>
      keys.destroy(actor, t.id, version).then(
        () => 'destroyed',
        (err: AppError) => `${err.code}${err.reasons ? ` ${err.reasons.join(',')}` : ''}`,
      );
    // Staff cannot; the version in use cannot; an unknown one is not found.
    expect((await u.client.post('/api/v1/admin/keys/1/destroy')).body.error.code).toBe('auth.forbidden');
    expect(await refused(1)).toBe('keys.version_active');
    expect(await refused(99)).toBe('keys.version_not_found');

    await keys.rotate(actor, t.id);
    // The file's data key is still under version 1 until the re-wrap has run.
    expect(await refused(1)).toBe('keys.version_in_use rewrap_pending');
    await keys.rewrap(t.id);
    // A write begun before the rotation and not yet recorded may have wrapped its key under version 1.
    const db = k.services.database.db;
    const rotatedAt = (
      await db
        .selectFrom('tenant_keys')
        .select('created_at')
        .where('tenant_id', '=', t.id)
        .where('version', '=', 2)
        .executeTakeFirstOrThrow()
    ).created_at;
    const intents = new FileRepository(db);
    const inFlight = randomId();
    await intents.insertIntent(t.id, inFlight, new Date(Date.parse(rotatedAt) - 1000).toISOString());
    expect(await refused(1)).toBe('keys.version_in_use writes_pending');
    await intents.deleteIntent(t.id, inFlight);

    expect(await refused(1)).toBe('destroyed');
    const row = await db
      .selectFrom('tenant_keys')
      .selectAll()
      .where('tenant_id', '=', t.id)
      .where('version', '=', 1)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'destroyed', wrapped_key: null, destroyed_at: expect.any(String) });
    expect(await refused(1)).toBe('keys.version_destroyed');
    expect((await keys.status(t.id)).versions.map((v) => `${v.version}:${v.state}`)).toEqual(['2:active', '1:destroyed']);
    const [ev] = (await events(t.id, 40)).filter((e) => e.action === 'tenant.key_destroyed');
    expect(JSON.parse(ev!.details)).toEqual({ kekVersion: 1, activeVersion: 2 });
    // The file opens under version 2; another tenant's keys are untouched.
    expect((await u.client.send('GET', `/api/v1/files/${id}/content`, '')).raw.toString()).toBe('outlives its first key');
    const other = await db
      .selectFrom('tenant_keys')
      .select('state')
      .where('tenant_id', '=', tenant.id)
      .where('version', '=', 1)
      .executeTakeFirstOrThrow();
    expect(other.state).not.toBe('destroyed');
  });

  it('records a resumable upload that was streaming through a rotation, re-wrap and destruction under the key it has now [ENC-03]', async () => {
    const t = await m.tenant();
    const u = await m.member(t);
    const f = await folder(u.client, '鍵4');
    const actor = { ...systemActor(t.id), type: 'user' as const, id: u.id, zone: 'lgwan' as const };
    const s = k.services;
    const data = randomBytes(3 * 1024 * 1024);
    const up = await s.uploads.create(actor, {
      folderId: f,
      name: 'big.bin',
      contentType: 'application/octet-stream',
      onConflict: 'keep_both',
      length: data.length,
      zone: 'lgwan',
    });
    // The PATCH starts (its session, with the key under version 1, is read now)...
    const body = new PassThrough();
    const patch = s.uploads.append(actor, up.id, 0, body, null);
    body.write(data.subarray(0, 1024 * 1024));
    await new Promise((r) => setTimeout(r, 200));
    // ...meanwhile the key is rotated, the re-wrap moves the session's key, and version 1 is destroyed.
    await s.keyRotation.rotate(systemActor(t.id), t.id);
    await s.keyRotation.rewrap(t.id);
    clock.advance(10 * 60_000);
    await s.keyRotation.destroy(systemActor(t.id), t.id, 1);
    body.end(data.subarray(1024 * 1024));
    const done = await patch;
    const blob = await s.database.db
      .selectFrom('blobs')
      .select('kek_version')
      .where('tenant_id', '=', t.id)
      .executeTakeFirstOrThrow();
    expect(blob.kek_version).toBe(2);
    await runJobs(); // the scan
    const got = await u.client.send('GET', `/api/v1/files/${done.fileId}/content`, '');
    expect(got.status).toBe(200);
    expect(sha256Hex(got.raw)).toBe(sha256Hex(data));
  });

  /** Damages a file's stored blob: flips one bit of the ciphertext byte at `at(ciphertext)`. */
  async function flipStoredByte(fileId: string, at: (stored: Buffer) => number): Promise<void> {
    const blobId = (
      await k.services.database.db
        .selectFrom('file_versions')
        .select('blob_id')
        .where('file_id', '=', fileId)
        .executeTakeFirstOrThrow()
    ).blob_id;
    const key = blobKey(tenant.id, blobId);
    const stored = await readAll(await k.services.blobStore.get(key));
    stored[at(stored)]! ^= 1;
    await k.services.blobStore.delete(key);
    await k.services.blobStore.put(key, Readable.from([stored]));
  }

  it('finds a tampered blob with the scrubber and a missing one on download; neither is ever served [TLS-02]', async () => {
    const f = await folder(owner.client, '検証');
    const content = randomBytes(100_000);
    const id = await uploadClean(owner.client, f, 'evidence.bin', content);
    await flipStoredByte(id, (stored) => stored.length - 100);
    const result = await k.services.scrubber.run(Number.MAX_SAFE_INTEGER);
    expect(result.damaged).toBeGreaterThanOrEqual(1);
    expect((await owner.client.get(`/api/v1/files/${id}`)).body.latest.state).toBe('damaged');
    expect((await owner.client.get(`/api/v1/files/${id}/content`)).status).toBe(409);
    expect((await events(tenant.id)).find((e) => e.action === 'file.integrity_failed')?.outcome).toBe('error');

    const other = await uploadClean(owner.client, f, 'gone.bin', Buffer.from('gone'));
    const otherBlob = (
      await k.services.database.db
        .selectFrom('file_versions')
        .select('blob_id')
        .where('file_id', '=', other)
        .executeTakeFirstOrThrow()
    ).blob_id;
    await k.services.blobStore.delete(blobKey(tenant.id, otherBlob));
    const missing = await owner.client.get(`/api/v1/files/${other}/content`);
    expect([missing.status, missing.body.error.code]).toEqual([500, 'file.integrity_failed']);
  });

  /** A download over a real connection: what a browser would receive. */
  async function fetchOverSocket(
    id: string,
    extra: Record<string, string> = {},
  ): Promise<{ status: number; headers: Record<string, unknown>; bytes: number; body: Buffer; whole: boolean }> {
    if (!lgwan.server.listening) await lgwan.listen({ port: 0, host: '127.0.0.1' });
    const { port } = lgwan.server.address() as AddressInfo;
    return new Promise((resolve) => {
      let bytes = 0;
      let status = 0;
      let headers: Record<string, unknown> = {};
      const chunks: Buffer[] = [];
      const done = (whole: boolean) => resolve({ status, headers, bytes, body: Buffer.concat(chunks), whole });
      const req = httpGet(
        {
          host: '127.0.0.1',
          port,
          path: `/api/v1/files/${id}/content`,
          headers: { cookie: owner.client.cookie!, ...extra },
        },
        (res) => {
          status = res.statusCode!;
          headers = res.headers;
          res.on('data', (c: Buffer) => {
            bytes += c.length;
            chunks.push(c);
          });
          res.on('end', () => done(res.complete));
          res.on('error', () => done(false));
          res.on('aborted', () => done(false));
        },
      );
      req.on('error', () => done(false));
    });
  }

  /** The file.integrity_failed event of a file, waited for (up to 5 s): it is recorded after the stream fails. */
  async function integrityFaultOf(id: string) {
    const faultOf = async () => (await events(tenant.id)).find((e) => e.action === 'file.integrity_failed' && e.target_id === id);
    for (let i = 0; i < 100 && !(await faultOf()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    return faultOf();
  }

  it('never delivers a whole download whose bytes do not match the recorded SHA-256, and records the fault [TLS-02]', async () => {
    const f = await folder(owner.client, '照合');
    const content = randomBytes(300_000); // five segments: all but the last pass before the hash is known
    const id = await uploadClean(owner.client, f, 'record.bin', content);
    // The blob is intact (every segment authenticates); the record disagrees with it.
    await k.services.database.db
      .updateTable('file_versions')
      .set({ sha256: sha256Hex(Buffer.from('something else')) })
      .where('file_id', '=', id)
      .execute();
    const got = await fetchOverSocket(id);
    expect(got.status).toBe(200);
    expect(got.headers['content-length']).toBe(String(content.length));
    expect(got.whole).toBe(false);
    expect(got.bytes).toBeLessThan(content.length);
    expect((await integrityFaultOf(id))?.outcome).toBe('error');
  });

  it('does not mark a file damaged when the store fails to read its blob; it records a fault and serves it once readable [TLS-02]', async (ctx) => {
    if (k.config.s3) ctx.skip(); // a local blob file is what is made unreadable here
    const f = await folder(owner.client, '読取失敗');
    const content = randomBytes(150_000);
    const id = await uploadClean(owner.client, f, 'unreadable.bin', content);
    const { blob_id: blobId } = await k.services.database.db
      .selectFrom('file_versions')
      .select('blob_id')
      .where('file_id', '=', id)
      .executeTakeFirstOrThrow();
    const path = join(k.config.paths.blobs, tenant.id, blobId.slice(0, 2), blobId);
    const sealed = readFileSync(path);
    // A directory where the file was: every read fails with EISDIR (an I/O error, not damage).
    rmSync(path);
    mkdirSync(path);
    const unreadable = async () =>
      (await events(tenant.id, 50)).filter((e) => e.action === 'file.blob_unreadable' && e.target_id === id).length;
    const result = await k.services.scrubber.run(Number.MAX_SAFE_INTEGER);
    expect(result.unreadable).toBeGreaterThanOrEqual(1);
    expect(await unreadable()).toBe(1);
    const got = await fetchOverSocket(id);
    expect(got.status).toBe(500);
    for (let i = 0; i < 100 && (await unreadable()) < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await unreadable()).toBe(2);
    expect((await events(tenant.id, 50)).filter((e) => e.target_id === id).map((e) => e.action)).not.toContain(
      'file.integrity_failed',
    );
    expect((await owner.client.get(`/api/v1/files/${id}`)).body.latest.state).toBe('available');
    // Readable again (the disk or the network is back): served whole, and the scrubber finds it intact.
    rmSync(path, { recursive: true });
    writeFileSync(path, sealed);
    const again = await fetchOverSocket(id);
    expect([again.status, again.whole, again.body.equals(content)]).toEqual([200, true, true]);
  });

  it('records no fault when the client goes away mid-download; the file stays available [TLS-02]', async () => {
    const f = await folder(owner.client, '中断');
    const id = await uploadClean(owner.client, f, 'big.bin', randomBytes(3_000_000));
    if (!lgwan.server.listening) await lgwan.listen({ port: 0, host: '127.0.0.1' });
    const { port } = lgwan.server.address() as AddressInfo;
    await new Promise<void>((resolve) => {
      const req = httpGet(
        { host: '127.0.0.1', port, path: `/api/v1/files/${id}/content`, headers: { cookie: owner.client.cookie! } },
        (res) => res.once('data', () => (req.destroy(), resolve())),
      );
      req.on('error', () => {});
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await events(tenant.id, 50)).filter((e) => e.target_id === id).map((e) => e.action)).not.toContain(
      'file.integrity_failed',
    );
    expect((await owner.client.get(`/api/v1/files/${id}`)).body.latest.state).toBe('available');
    expect((await fetchOverSocket(id)).whole).toBe(true);
  });

  it.each([
    ['a download', {}],
    ['a range', { range: 'bytes=10-99' }],
  ])(
    'answers %s whose first segment fails authentication with 500 file.integrity_failed, without the file headers [TLS-02]',
    async (_what, headers: Record<string, string>) => {
      const f = await folder(owner.client, `改ざん${_what}`);
      const id = await uploadClean(owner.client, f, 'first.bin', randomBytes(200_000));
      await flipStoredByte(id, () => 100); // inside segment 0, just past the header
      // Not yet found by the scrubber: the download itself meets the damage before its first byte.
      const got = await fetchOverSocket(id, headers);
      expect(got.status).toBe(500);
      expect(got.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(got.body.toString()).error.code).toBe('file.integrity_failed');
      for (const h of ['content-disposition', 'content-range', 'x-kura-sha256', 'etag']) expect(got.headers[h]).toBeUndefined();
      expect((await integrityFaultOf(id))?.outcome).toBe('error');
      // The fault marked it damaged: it is not offered again.
      expect((await fetchOverSocket(id)).status).toBe(409);
    },
  );

  it('marks every version that shares a damaged blob: a copy is not offered once the original was found damaged [TLS-02]', async () => {
    const f = await folder(owner.client, '共有ブロブ');
    const id = await uploadClean(owner.client, f, 'original.bin', randomBytes(100_000));
    const copy = (await owner.client.post(`/api/v1/files/${id}/copy`, { folderId: f })).body.id as string;
    await flipStoredByte(id, () => 100);
    expect((await fetchOverSocket(id)).status).toBe(500);
    expect((await integrityFaultOf(id))?.outcome).toBe('error');
    // The copy uses the same ciphertext: damaged too, with its own fault event, and never served.
    expect((await owner.client.get(`/api/v1/files/${copy}`)).body.latest.state).toBe('damaged');
    expect((await integrityFaultOf(copy))?.outcome).toBe('error');
    const again = await owner.client.send('GET', `/api/v1/files/${copy}/content`, '', { range: 'bytes=70000-70100' });
    expect([again.status, again.body.error.code]).toEqual([409, 'file.not_available']);
  });

  it('never stores a plaintext byte: a canary is found neither in the data directory nor in the bucket [ENC-01]', async () => {
    const canary = Buffer.from(`KURA-CANARY-${sha256Hex(randomBytes(16))}`.repeat(50));
    const f = await folder(owner.client, 'カナリア');
    await uploadClean(owner.client, f, 'canary.txt', canary);
    const needle = canary.subarray(0, 60);
    const hits: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (readFileSync(p).includes(needle)) hits.push(p);
      }
    };
    walk(k.dir);
    expect(hits).toEqual([]);
    if (k.engine === 'postgres' && process.env.KURA_TEST_S3_ENDPOINT) expect(k.config.s3).toBeDefined();
    if (k.config.s3) {
      expect(k.services.blobStore.description).toMatch(/^s3/i);
      expect(await s3ObjectsContaining(needle, k.config.s3.prefix)).toEqual([]);
    }
  });

  it('lets a tenant admin see folder owners and re-assign a folder whose owner left [HR-04]', async () => {
    const t = await m.tenant();
    const admin = await m.member(t, 'tenant_admin');
    const leaver = await m.member(t);
    const heir = await m.member(t);
    const f = await folder(leaver.client, '引継ぎ');
    await k.services.userAdmin.suspend(systemActor(t.id), leaver.id);
    const list = (await admin.client.get('/api/v1/admin/folders')).body.folders;
    expect(list.find((x: { id: string }) => x.id === f)).toMatchObject({ ownerId: leaver.id, ownerActive: false });
    const bad = await admin.client.req('PUT', `/api/v1/admin/folders/${f}/owner`, { userId: leaver.id });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'folder.owner_invalid']);
    expect((await admin.client.req('PUT', `/api/v1/admin/folders/${f}/owner`, { userId: heir.id })).status).toBe(204);
    expect((await heir.client.get(`/api/v1/folders/${f}`)).body.folder.role).toBe('manager');
    expect((await owner.client.get('/api/v1/admin/folders')).status).toBe(403);
    expect((await events(t.id, 30)).map((e) => e.action)).toContain('folder.owner_reassignment_required');

    // An administrator cannot suspend an owner without naming who takes the folders over.
    const f2 = await folder(heir.client, '窓口');
    const refused = await admin.client.post(`/api/v1/admin/users/${heir.id}/suspend`, {});
    expect([refused.status, refused.body.error.code]).toEqual([409, 'user.owns_folders']);
    const next = await m.member(t);
    const done = await admin.client.post(`/api/v1/admin/users/${heir.id}/suspend?reassignTo=${next.id}`, {});
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    const after = (await admin.client.get('/api/v1/admin/folders')).body.folders;
    expect(after.filter((x: { id: string }) => x.id === f || x.id === f2).map((x: { ownerId: string }) => x.ownerId)).toEqual([
      next.id,
      next.id,
    ]);
  });
});

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

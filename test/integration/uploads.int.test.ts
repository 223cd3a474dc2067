/**
 * Resumable uploads with a standard tus client (tus-js-client) against a listening server, the tus
 * error answers (409 offset, 460 checksum, 413 size), and the cross-tenant matrix of every files
 * route (AC-08): another tenant's ids answer 404 and change nothing.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Upload } from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { randomBytes, sha256Hex } from '../../src/crypto/primitives.js';
import { buildServer, type App } from '../../src/http/server.js';
import { Worker } from '../../src/jobs/worker.js';
import { BatchWriter } from '../../src/storage/write-batch.js';
import type { Client } from '../support/http-client.js';
import { createTestKura, type TestKura } from '../support/kura.js';
import { Members, multipartBody, type Member, type TestTenant } from '../support/members.js';

const clock = new ManualClock(new Date('2026-11-26T01:00:00.000Z'));
let k: TestKura;
let app: App;
let base: string;
let m: Members;
let tenant: TestTenant;
let alice: Member;
let folderId: string;

beforeAll(async () => {
  k = await createTestKura({ clock });
  app = await buildServer(k.services, { zone: 'lgwan', webUi: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  m = new Members(k, app, clock);
  tenant = await m.tenant();
  alice = await m.member(tenant);
  const f = await alice.client.post('/api/v1/folders', { parentId: null, name: 'アップロード' });
  folderId = f.body.id;
}, 60_000);
afterAll(async () => {
  await app?.close();
  await k?.close();
});

async function runJobs(): Promise<void> {
  const w = new Worker(k.services.jobs, { id: 'test', handlers: k.services.jobHandlers });
  while (await w.runOnce());
}

function meta(name: string, extra: Record<string, string> = {}) {
  return Object.entries({ filename: name, folderId, ...extra })
    .map(([key, v]) => `${key} ${Buffer.from(v).toString('base64')}`)
    .join(',');
}

function tusOptions(c: Client, name: string) {
  return {
    endpoint: `${base}/api/v1/uploads`,
    chunkSize: 100 * 1024, // not a multiple of the 64 KiB segment: the server keeps whole segments and says where to go on
    metadata: { filename: name, folderId, filetype: 'application/pdf' },
    headers: { cookie: c.cookie!, 'x-csrf-token': c.csrf! },
    retryDelays: [],
    storeFingerprintForResuming: false,
  };
}

function tusUpload(c: Client, data: Buffer, name: string, opts: { uploadUrl?: string; abortAfter?: number } = {}) {
  let fileId: string | null = null;
  let upload: Upload;
  const done = new Promise<{ url: string; fileId: string | null; aborted: boolean }>((resolve, reject) => {
    upload = new Upload(data, {
      ...tusOptions(c, name),
      ...(opts.uploadUrl ? { uploadUrl: opts.uploadUrl } : {}),
      onAfterResponse: (_req, res) => {
        fileId = res.getHeader('Kura-File-Id') ?? fileId;
      },
      onProgress: (sent) => {
        if (opts.abortAfter !== undefined && sent >= opts.abortAfter) {
          void upload.abort().then(() => resolve({ url: upload.url!, fileId, aborted: true }));
        }
      },
      onSuccess: () => resolve({ url: upload.url!, fileId, aborted: false }),
      onError: reject,
    });
    upload.start();
  });
  return done;
}

/** Alice creates a tus upload of `length` bytes; `patch` sends one PATCH at `offset`. */
async function createUpload(name: string, length: number) {
  const created = await alice.client.send('POST', '/api/v1/uploads', '', {
    'tus-resumable': '1.0.0',
    'upload-length': String(length),
    'upload-metadata': meta(name),
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const url = String(created.headers.location);
  const patch = (offset: number, body: Buffer, headers: Record<string, string> = {}) =>
    alice.client.send('PATCH', url, body, {
      'tus-resumable': '1.0.0',
      'content-type': 'application/offset+octet-stream',
      'upload-offset': String(offset),
      ...headers,
    });
  return { url, patch };
}

async function head(c: Client, url: string) {
  return c.send('HEAD', new URL(url, base).pathname, '', { 'tus-resumable': '1.0.0' });
}

describe(`uploads on ${process.env.KURA_TEST_DB ?? 'sqlite'}`, () => {
  it('takes a tus upload from tus-js-client, resumes it after the client stops, and records the whole-file SHA-256 [TLS-02]', async () => {
    const data = randomBytes(700 * 1024 + 77);
    const first = await tusUpload(alice.client, data, '議事録.pdf', { abortAfter: 300 * 1024 });
    expect(first.aborted).toBe(true);
    const h = await head(alice.client, first.url);
    expect(h.status).toBe(200);
    const offset = Number(h.headers['upload-offset']);
    expect(offset % 65536).toBe(0);
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThan(data.length);
    expect(h.headers['upload-length']).toBe(String(data.length));
    // Nothing is visible before the last byte.
    expect((await alice.client.get(`/api/v1/folders/${folderId}`)).body.files.map((f: { name: string }) => f.name)).not.toContain(
      '議事録.pdf',
    );

    const second = await tusUpload(alice.client, data, '議事録.pdf', { uploadUrl: first.url });
    expect(second.aborted).toBe(false);
    expect(second.fileId).toMatch(/^[0-9a-f-]{36}$/);
    const file = (await alice.client.get(`/api/v1/files/${second.fileId}`)).body;
    expect(file.latest).toMatchObject({
      size: data.length,
      sha256: sha256Hex(data),
      state: 'held',
      contentType: 'application/pdf',
    });
    await runJobs();
    expect((await alice.client.get(`/api/v1/files/${second.fileId}`)).body.latest.state).toBe('available');
    const d = await alice.client.send('GET', `/api/v1/files/${second.fileId}/content`, '');
    expect(d.status).toBe(200);
    expect(d.raw.length).toBe(data.length);
    expect(sha256Hex(d.raw)).toBe(sha256Hex(data));
    // The staged bytes are gone once the upload finished.
    expect((await head(alice.client, first.url)).headers['upload-offset']).toBe(String(data.length));
  });

  it('answers 409 for a PATCH at the wrong offset, 460 for a checksum mismatch (discarding the chunk), 415 for a wrong type', async () => {
    const data = randomBytes(200_000);
    const { url, patch } = await createUpload('check.bin', data.length);
    const chunk = data.subarray(0, 131072);
    const wrong = await patch(5, chunk);
    expect([wrong.status, wrong.body.error.code]).toEqual([409, 'upload.offset_mismatch']);
    const badSum = await patch(0, chunk, {
      'upload-checksum': `sha256 ${createHash('sha256').update('other').digest('base64')}`,
    });
    expect([badSum.status, badSum.body.error.code]).toEqual([460, 'upload.checksum_mismatch']);
    expect((await head(alice.client, url)).headers['upload-offset']).toBe('0');
    const md5 = await patch(0, chunk, { 'upload-checksum': `md5 ${createHash('md5').update(chunk).digest('base64')}` });
    expect([md5.status, md5.body.error.code]).toEqual([400, 'upload.checksum_unsupported']);
    const type = await alice.client.send('PATCH', url, chunk, {
      'tus-resumable': '1.0.0',
      'content-type': 'text/plain',
      'upload-offset': '0',
    });
    expect(type.status).toBe(415);
    const good = await patch(0, chunk, { 'upload-checksum': `sha256 ${createHash('sha256').update(chunk).digest('base64')}` });
    expect([good.status, good.headers['upload-offset']]).toEqual([204, '131072']);
    const rest = data.subarray(131072);
    const last = await patch(131072, rest, { 'upload-checksum': `sha256 ${createHash('sha256').update(rest).digest('base64')}` });
    expect(last.status).toBe(204);
    expect(last.headers['kura-file-id']).toBeTruthy();
    expect((await alice.client.get(`/api/v1/files/${last.headers['kura-file-id']}`)).body.latest.sha256).toBe(sha256Hex(data));
  });

  it('never moves the offset past what is stored when a write fails mid-PATCH, and resumes into an intact file [TLS-02]', async () => {
    const data = randomBytes(6 * 65536 + 1234);
    const { url, patch } = await createUpload('disk-fault.bin', data.length);
    // The disk fails while the writer takes the third segment (injected into the real writer).
    const real = BatchWriter.prototype.write;
    let calls = 0;
    const failing = vi.spyOn(BatchWriter.prototype, 'write').mockImplementation(async function (
      this: BatchWriter,
      chunk: Buffer,
    ) {
      if (++calls === 5) throw new Error('disk failed (injected)');
      return real.call(this, chunk);
    });
    let failed;
    try {
      failed = await patch(0, data);
    } finally {
      failing.mockRestore();
    }
    expect(failed.status).toBe(500);
    const offset = Number((await head(alice.client, url)).headers['upload-offset']);
    expect(offset).toBe(0);
    const resumed = await patch(offset, data.subarray(offset));
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(204);
    const fileId = String(resumed.headers['kura-file-id']);
    expect((await alice.client.get(`/api/v1/files/${fileId}`)).body.latest.sha256).toBe(sha256Hex(data));
    await runJobs();
    const d = await alice.client.send('GET', `/api/v1/files/${fileId}/content`, '');
    expect([d.status, d.raw.length]).toEqual([200, data.length]);
    expect(sha256Hex(d.raw)).toBe(sha256Hex(data));
  });

  it('refuses a file over the size limit at creation (413) and lets the uploader cancel an upload (termination)', async () => {
    const big = await alice.client.send('POST', '/api/v1/uploads', '', {
      'tus-resumable': '1.0.0',
      'upload-length': String(k.config.uploads.maxFileBytes + 1),
      'upload-metadata': meta('huge.bin'),
    });
    expect([big.status, big.body.error.code]).toEqual([413, 'upload.too_large']);
    const created = await alice.client.send('POST', '/api/v1/uploads', '', {
      'tus-resumable': '1.0.0',
      'upload-length': '1000',
      'upload-metadata': meta('cancel.bin'),
    });
    const url = String(created.headers.location);
    expect((await alice.client.send('DELETE', url, '', { 'tus-resumable': '1.0.0' })).status).toBe(204);
    expect((await head(alice.client, url)).status).toBe(404);
    const noVersion = await alice.client.send('POST', '/api/v1/uploads', '', {
      'upload-length': '10',
      'upload-metadata': meta('x'),
    });
    expect(noVersion.status).toBe(400);
    expect(noVersion.headers['tus-version']).toBe('1.0.0');
  });

  it('takes an empty file over tus: its blob decrypts, it is scanned, available and downloads as 0 bytes [TLS-02, MAL-01]', async () => {
    const created = await alice.client.send('POST', '/api/v1/uploads', '', {
      'tus-resumable': '1.0.0',
      'upload-length': '0',
      'upload-metadata': meta('空のファイル.txt'),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const fileId = String(created.headers['kura-file-id']);
    await runJobs();
    const file = (await alice.client.get(`/api/v1/files/${fileId}`)).body;
    expect(file.latest).toMatchObject({ size: 0, sha256: sha256Hex(Buffer.alloc(0)), state: 'available' });
    const d = await alice.client.send('GET', `/api/v1/files/${fileId}/content`, '');
    expect([d.status, d.raw.length]).toEqual([200, 0]);
    // The scrubber reads it back intact.
    const scrub = await k.services.scrubber.run();
    expect(scrub.damaged).toBe(0);
  });

  it('answers 404, not a fault, to a session id that is not one of ours', async () => {
    for (const method of ['HEAD', 'PATCH', 'DELETE'] as const) {
      const r = await alice.client.send(method, '/api/v1/uploads/not-a-uuid', method === 'PATCH' ? Buffer.from('x') : '', {
        'tus-resumable': '1.0.0',
        ...(method === 'PATCH' ? { 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' } : {}),
      });
      expect(r.status, method).toBe(404);
    }
    const faults = (await k.services.auditRepository.latestEvents(tenant.id, 50)).filter((e) => e.action === 'system.fault');
    expect(faults).toEqual([]);
  });

  it('expires abandoned uploads and removes their staged bytes', async () => {
    const created = await alice.client.send('POST', '/api/v1/uploads', '', {
      'tus-resumable': '1.0.0',
      'upload-length': '100000',
      'upload-metadata': meta('abandoned.bin'),
    });
    const url = String(created.headers.location);
    const id = url.split('/').pop()!;
    const staged = `${k.config.paths.staging}/${tenant.id}/${id}.part`;
    const { existsSync } = await import('node:fs');
    expect(existsSync(staged)).toBe(true);
    clock.advance((k.config.uploads.sessionTtlHours + 1) * 3_600_000);
    expect(await k.services.uploads.cleanup()).toBeGreaterThanOrEqual(1);
    expect(existsSync(staged)).toBe(false);
    alice.client = await m.signIn(alice);
    expect((await head(alice.client, url)).status).toBe(404);
  });

  it('a PATCH that starts just before the session expires keeps it: the cleanup job running meanwhile leaves it whole', async () => {
    const data = randomBytes(300_000);
    const { url } = await createUpload('遅い回線.bin', data.length);
    const ttl = k.config.uploads.sessionTtlHours * 3_600_000;
    clock.advance(ttl - 60_000); // one minute left
    alice.client = await m.signIn(alice);
    const { request } = await import('node:http');
    const req = request(new URL(url, base), {
      method: 'PATCH',
      headers: {
        cookie: alice.client.cookie!,
        'x-csrf-token': alice.client.csrf!,
        'tus-resumable': '1.0.0',
        'content-type': 'application/offset+octet-stream',
        'upload-offset': '0',
        'content-length': String(data.length),
      },
    });
    const answered = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
    });
    req.write(data.subarray(0, 100_000));
    await new Promise((r) => setTimeout(r, 300)); // the server is now inside the PATCH
    clock.advance(2 * 60_000); // past the expiry the session had when the PATCH started
    await k.services.uploads.cleanup();
    req.end(data.subarray(100_000));
    expect(await answered).toBe(204);
    const h = await head(alice.client, url);
    const fileId = String(h.headers['kura-file-id'] ?? '');
    const files = (await alice.client.get(`/api/v1/folders/${folderId}`)).body.files as { id: string; name: string }[];
    const recorded = files.find((f) => f.name === '遅い回線.bin');
    expect(recorded, JSON.stringify(h.headers)).toBeTruthy();
    expect(fileId === '' || fileId === recorded!.id).toBe(true);
    await runJobs();
    const d = await alice.client.send('GET', `/api/v1/files/${recorded!.id}/content`, '');
    expect(sha256Hex(d.raw)).toBe(sha256Hex(data));
  });

  it("answers 404 to every files route called with another tenant's ids and changes nothing [AC-08]", async () => {
    const a = alice.client;
    const top = (await a.post('/api/v1/folders', { parentId: null, name: '機密' })).body.id;
    const { payload, contentType } = multipartBody('secret.txt', Buffer.from('secret'));
    const file = (await a.send('POST', `/api/v1/folders/${top}/files`, payload, { 'content-type': contentType })).body.id;
    await runJobs();
    const colleague = await m.member(tenant);
    const granted = await a.post(`/api/v1/folders/${top}/permissions`, {
      subjectType: 'user',
      subjectId: colleague.id,
      role: 'viewer',
    });
    expect(granted.status, JSON.stringify(granted.body)).toBe(200);
    const grant = granted.body.grants[0].id;
    const trashed = (await a.post('/api/v1/folders', { parentId: top, name: 'ごみ' })).body.id;
    await a.req('DELETE', `/api/v1/folders/${trashed}`);
    const upload = String(
      (
        await a.send('POST', '/api/v1/uploads', '', {
          'tus-resumable': '1.0.0',
          'upload-length': '10',
          'upload-metadata': meta('u.bin'),
        })
      ).headers.location,
    );

    const other = await m.tenant();
    const mallory = await m.member(other, 'tenant_admin');
    const own = (await mallory.client.post('/api/v1/folders', { parentId: null, name: 'mine' })).body.id;
    const before = (await k.services.auditRepository.latestEvents(tenant.id, 1))[0]!.seq;
    const c = mallory.client;
    const tus = { 'tus-resumable': '1.0.0' };
    const calls: Array<[string, Promise<{ status: number }>]> = [
      ['GET folder', c.get(`/api/v1/folders/${top}`)],
      ['PATCH folder', c.req('PATCH', `/api/v1/folders/${top}`, { name: 'x' })],
      ['move own folder into theirs', c.req('PATCH', `/api/v1/folders/${own}`, { parentId: top })],
      ['DELETE folder', c.req('DELETE', `/api/v1/folders/${top}`)],
      ['restore folder', c.post(`/api/v1/folders/${trashed}/restore`, {})],
      ['GET permissions', c.get(`/api/v1/folders/${top}/permissions`)],
      [
        'POST permissions',
        c.post(`/api/v1/folders/${top}/permissions`, { subjectType: 'user', subjectId: mallory.id, role: 'manager' }),
      ],
      ['DELETE permission', c.req('DELETE', `/api/v1/folders/${top}/permissions/${grant}`)],
      ['create subfolder', c.post('/api/v1/folders', { parentId: top, name: 'x' })],
      ['upload', c.send('POST', `/api/v1/folders/${top}/files`, payload, { 'content-type': contentType })],
      ['GET file', c.get(`/api/v1/files/${file}`)],
      ['PATCH file', c.req('PATCH', `/api/v1/files/${file}`, { name: 'x' })],
      ['move file to own folder', c.req('PATCH', `/api/v1/files/${file}`, { folderId: own })],
      ['copy file', c.post(`/api/v1/files/${file}/copy`, { folderId: own })],
      ['DELETE file', c.req('DELETE', `/api/v1/files/${file}`)],
      ['restore file', c.post(`/api/v1/files/${file}/restore`, {})],
      ['download', c.get(`/api/v1/files/${file}/content`)],
      ['new version', c.send('POST', `/api/v1/files/${file}/versions`, payload, { 'content-type': contentType })],
      ['purge file', c.req('DELETE', `/api/v1/trash/file/${file}`)],
      ['purge folder', c.req('DELETE', `/api/v1/trash/folder/${trashed}`)],
      ['tus HEAD', c.send('HEAD', upload, '', tus)],
      [
        'tus PATCH',
        c.send('PATCH', upload, Buffer.from('0123456789'), {
          ...tus,
          'content-type': 'application/offset+octet-stream',
          'upload-offset': '0',
        }),
      ],
      ['tus DELETE', c.send('DELETE', upload, '', tus)],
      [
        'tus into their folder',
        c.send('POST', '/api/v1/uploads', '', { ...tus, 'upload-length': '10', 'upload-metadata': meta('m.bin') }),
      ],
      ['admin owner change', c.req('PUT', `/api/v1/admin/folders/${top}/owner`, { userId: mallory.id })],
    ];
    for (const [name, p] of calls) expect((await p).status, name).toBe(404);
    expect((await k.services.auditRepository.latestEvents(tenant.id, 1))[0]!.seq).toBe(before);
    expect((await a.send('GET', `/api/v1/files/${file}/content`, '')).raw.toString()).toBe('secret');
    expect((await a.get(`/api/v1/folders/${top}`)).body.folder.name).toBe('機密');
    expect((await head(a, `${base}${upload}`)).headers['upload-offset']).toBe('0');
  });
});

/**
 * Reliability of uploads under crashes (issue 4 "Reliability test", TLS-02): a real `kura serve`
 * process is killed with SIGKILL at random moments (20–400 ms into each round) while simple and tus
 * uploads run concurrently, more than 30 times, and restarted on the same data directory and ports;
 * interrupted tus uploads resume from the offset HEAD reports. The harness (bench/upload-crash.ts,
 * which also runs on its own with 200 kills and bigger files) then checks on the data directory that
 * every acknowledged upload is there and decrypts to the SHA-256 the client computed, that nothing
 * unacknowledged or partial is visible, and that the cleanup job collects the staging leftovers.
 *
 * A tus upload whose commit did not happen (a kill inside finish, or a refused commit) stays
 * resumable from the offset before its last PATCH: HEAD never reports a finished upload that was not
 * saved. The crash test prints its seed; KURA_CRASH_SEED replays the sizes and delays (not the timing).
 */
import type { AddressInfo } from 'node:net';
import { Upload } from 'tus-js-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { randomBytes, sha256Hex } from '../../src/crypto/primitives.js';
import { buildServer, type App } from '../../src/http/server.js';
import { formatReport, runUploadCrash } from '../../bench/upload-crash.js';
import { createTestKura, type TestKura } from '../support/kura.js';
import { Members, multipartBody, type Member } from '../support/members.js';

const SEGMENT = 64 * 1024;

describe('uploads under kill -9 (reliability)', () => {
  it('[TLS-02] reliability: after 32 SIGKILLs during concurrent simple and tus uploads every acknowledged upload decrypts to its SHA-256, nothing unacknowledged or partial is visible, and the staging leftovers are collected', async () => {
    const report = await runUploadCrash({
      kills: 32,
      concurrency: 4,
      simpleBytes: [1, 400_000],
      tusBytes: [200_000, 1_200_000],
      tusChunkBytes: [SEGMENT, 300_000],
      killDelayMs: [20, 400],
      tusShare: 0.5,
      standbys: 2,
      runner: 'bundle',
      seed: Number(process.env.KURA_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31)),
    });
    const summary = formatReport(report);
    console.log(summary);

    expect(report.problems, summary).toEqual([]);
    expect(report.kills).toBeGreaterThanOrEqual(30);
    // Sessions live in the database: the cookie from before the first kill works after every restart.
    expect(report.sessionsSurvivedRestarts).toBe(report.restarts);
    expect(report.listings).toBe(report.restarts);
    // Every round starts with one upload that must be acknowledged, so each kill has acknowledged work behind it.
    expect(report.simple.acked).toBeGreaterThanOrEqual(report.kills);
    expect(report.tus.acked).toBeGreaterThan(0);
    expect(report.tus.spanningRestarts).toBeGreaterThan(0);
    expect(report.tus.resumedAfterKill).toBeGreaterThan(0);
    expect(report.bytesVerified).toBeGreaterThan(0);
    // Ciphertext whose upload never committed is found through its intent and removed by the cleanup.
    expect(report.orphanBlobs).toBe(0);
    // Fresh staging files stay (they may be in-progress writes); after an hour only open sessions keep
    // theirs; after the session lifetime nothing is left.
    expect(report.leftovers.keptWhileFresh).toBe(true);
    expect(report.leftovers.before.openSessions).toBeGreaterThanOrEqual(1); // at least the abandoned one
    expect(report.leftovers.afterOneHour.blobStaging).toBe(0);
    expect(report.leftovers.afterOneHour.parts).toBeLessThanOrEqual(report.leftovers.before.openSessions);
    expect(report.leftovers.afterExpiry).toEqual({
      parts: 0,
      blobStaging: 0,
      sessions: 0,
      expired: report.leftovers.before.openSessions,
    });
  }, 240_000);
});

describe('a tus upload whose commit did not happen (as after a kill inside finish)', () => {
  // The state a kill between "last byte staged" and "file committed" leaves, produced without a kill:
  // the commit fails because a file of the same name arrived meanwhile (409 name.taken).
  const clock = new ManualClock(new Date());
  let k: TestKura;
  let app: App;
  let base: string;
  let alice: Member;
  let folderId: string;

  beforeAll(async () => {
    k = await createTestKura({ clock });
    app = await buildServer(k.services, { zone: 'lgwan', webUi: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const m = new Members(k, app, clock);
    alice = await m.member(await m.tenant());
    folderId = (await alice.client.post('/api/v1/folders', { parentId: null, name: '再送' })).body.id;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await k?.close();
  });

  const tus = { 'tus-resumable': '1.0.0' };
  const patch = (url: string, offset: number, body: Buffer) =>
    alice.client.send('PATCH', url, body, {
      ...tus,
      'content-type': 'application/offset+octet-stream',
      'upload-offset': String(offset),
    });

  /** A session with every byte staged and the commit refused; returns its URL and the competing file. */
  async function stagedButUncommitted(name: string, data: Buffer): Promise<{ url: string; otherId: string }> {
    const meta = `filename ${Buffer.from(name).toString('base64')},folderId ${Buffer.from(folderId).toString('base64')}`;
    const created = await alice.client.send('POST', '/api/v1/uploads', '', {
      ...tus,
      'upload-length': String(data.length),
      'upload-metadata': meta,
    });
    expect(created.status).toBe(201);
    const url = String(created.headers.location);
    const mp = multipartBody(name, Buffer.from('meanwhile'));
    const other = await alice.client.send('POST', `/api/v1/folders/${folderId}/files`, mp.payload, {
      'content-type': mp.contentType,
    });
    expect(other.status).toBe(201);
    const all = await patch(url, 0, data);
    expect([all.status, all.body.error?.code]).toEqual([409, 'name.taken']);
    // The session did not move: the client resends the last PATCH once the obstacle is gone.
    const head = await alice.client.send('HEAD', url, '', tus);
    expect([head.status, head.headers['upload-offset'], head.headers['kura-file-id']]).toEqual([200, '0', undefined]);
    return { url, otherId: other.body.id };
  }

  async function retryCommit(name: string, length: number) {
    const data = randomBytes(length);
    const { url, otherId } = await stagedButUncommitted(name, data);
    // The obstacle goes away (after a kill: the next process); the client retries the commit at the end.
    const renamed = await alice.client.req('PATCH', `/api/v1/files/${otherId}`, { name: `${name}.old` });
    expect(renamed.status).toBe(200);
    const retry = await patch(url, 0, data);
    expect(retry.status, JSON.stringify(retry.body)).toBe(204);
    const fileId = String(retry.headers['kura-file-id']);
    const file = await alice.client.get(`/api/v1/files/${fileId}`);
    expect(file.body.latest).toMatchObject({ size: data.length, sha256: sha256Hex(data) });
  }

  it('[TLS-02] reliability: is committed by retrying the last PATCH when the length is a multiple of 64 KiB', async () => {
    await retryCommit('aligned.bin', 3 * SEGMENT);
  });

  it('[TLS-02] reliability: is committed by retrying the last PATCH for any length', async () => {
    await retryCommit('unaligned.bin', 3 * SEGMENT + 1234);
  });

  it('[TLS-02] reliability: a standard tus client (tus-js-client) does not report success while the commit is refused', async () => {
    const data = randomBytes(2 * SEGMENT);
    const { url } = await stagedButUncommitted('standard-client.bin', data);
    const outcome = await new Promise<{ success: boolean; fileId: string | null }>((resolve) => {
      let fileId: string | null = null;
      const upload = new Upload(data, {
        endpoint: `${base}/api/v1/uploads`,
        uploadUrl: new URL(url, base).href,
        chunkSize: SEGMENT,
        retryDelays: [0],
        metadata: { filename: 'standard-client.bin', folderId },
        headers: { cookie: alice.client.cookie!, 'x-csrf-token': alice.client.csrf! },
        storeFingerprintForResuming: false,
        onAfterResponse: (_req, res) => {
          fileId = res.getHeader('Kura-File-Id') ?? fileId;
        },
        onSuccess: () => resolve({ success: true, fileId }),
        onError: () => resolve({ success: false, fileId }),
      });
      upload.start();
    });
    // The name is still taken, so nothing can be recorded: the client must not report success.
    const listed = (await alice.client.get(`/api/v1/folders/${folderId}`)).body.files as Array<{
      name: string;
      latest: { size: number };
    }>;
    expect(listed.filter((f) => f.name === 'standard-client.bin').map((f) => f.latest.size)).toEqual([9]);
    expect(outcome.fileId).toBeNull();
    expect(outcome.success).toBe(false);
  });
});

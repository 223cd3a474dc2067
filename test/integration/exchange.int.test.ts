/**
 * File exchange with outside parties over HTTP on both engines, with the real clamd: upload request
 * links (internet zone) into the staff member's inbox (LGWAN, sanitised); shares with the
 * confirmation step, 上長承認, one-time codes, download limits and notifications; label, domain and
 * feature-switch rules; the same 404 for every unusable link; tenant isolation; HR-05 deletion.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { SYSTEM_TENANT_ID, systemActor, type TenantId } from '../../src/core/types.js';
import { ExchangeRepository } from '../../src/exchange/exchange.repository.js';
import type { TenantSettings } from '../../src/tenants/tenant-settings.js';
import { buildServer, type App } from '../../src/http/server.js';
import { Worker } from '../../src/jobs/worker.js';
import type { Client } from '../support/http-client.js';
import { createTestKura, type TestKura } from '../support/kura.js';
import { Members, multipartBody, type Member, type TestTenant } from '../support/members.js';
import { docm } from '../support/office-fixtures.js';

const clock = new ManualClock(new Date('2026-11-26T01:00:00.000Z'));
let k: TestKura;
let lgwan: App;
let internet: App;
let m: Members;
let tenant: TestTenant;
let other: TestTenant;
let staff: Member;
let approver: Member;
let admin: Member;
let stranger: Member;
let folderId: string;

beforeAll(async () => {
  if (!process.env.KURA_TEST_CLAMD && process.env.CI)
    throw new Error('KURA_TEST_CLAMD is not set: the scan gate needs the test clamd');
  k = await createTestKura({ clock });
  lgwan = await buildServer(k.services, { zone: 'lgwan', webUi: false });
  internet = await buildServer(k.services, { zone: 'internet', webUi: false });
  await Promise.all([lgwan.ready(), internet.ready()]);
  m = new Members(k, lgwan, clock);
  tenant = await m.tenant();
  other = await m.tenant();
  staff = await m.member(tenant);
  approver = await m.member(tenant, 'approver');
  admin = await m.member(tenant, 'tenant_admin');
  stranger = await m.member(other);
  // Staff addresses for the mails to the sender and the approvers.
  for (const [u, email] of [
    [staff, 'staff@city.example.lg.jp'],
    [approver, 'boss@city.example.lg.jp'],
  ] as const)
    await k.services.database.db.updateTable('users').set({ email }).where('id', '=', u.id).execute();
  const f = await staff.client.post('/api/v1/folders', { parentId: null, name: '送付資料' });
  folderId = f.body.id;
}, 90_000);
afterAll(async () => {
  await Promise.all([lgwan?.close(), internet?.close()]);
  await k?.close();
});

const scanner = process.env.KURA_TEST_CLAMD ? describe : describe.skip;

async function runJobs(): Promise<void> {
  const w = new Worker(k.services.jobs, { id: 'test', handlers: k.services.jobHandlers });
  while (await w.runOnce());
}

/** An outside party's browser: no Kura session, only the link cookies the exchange sets. */
class Outsider {
  cookies = new Map<string, string>();
  constructor(private readonly app: App) {}
  async req(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, raw?: Buffer | Readable) {
    const res = await this.app.inject({
      method: method as 'GET',
      url,
      remoteAddress: '203.0.113.9',
      headers: {
        'user-agent': 'outsider-test',
        ...(this.cookies.size ? { cookie: [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ') } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : raw ? { payload: raw } : {}),
    });
    const sc = res.headers['set-cookie'];
    for (const c of Array.isArray(sc) ? sc : sc ? [sc] : []) {
      const [pair] = c.split(';');
      const [n, v] = pair!.split('=');
      this.cookies.set(n!, v!);
    }
    let parsed: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    try {
      parsed = res.body ? JSON.parse(res.body) : null;
    } catch {
      parsed = res.body;
    }
    return { status: res.statusCode, body: parsed, headers: res.headers, raw: res.rawPayload };
  }
}

async function outbox(tenantId: string, template: string) {
  return k.services.database.db
    .selectFrom('mail_outbox')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('template', '=', template)
    .orderBy('created_at', 'desc')
    .execute();
}

async function latestCode(tenantId: string, to: string): Promise<string> {
  const mails = (await outbox(tenantId, 'exchange.code')).filter((x) => x.to_address === to);
  const match = /確認コード：(\d{6})/.exec(mails[0]?.body ?? '') ?? /Verification code: (\d{6})/.exec(mails[0]?.body ?? '');
  expect(match, 'a code mail').toBeTruthy();
  return match![1]!;
}

async function events(tenantId: string, action: string) {
  return (await k.services.auditRepository.latestEvents(tenantId as TenantId, 500)).filter((e) => e.action === action);
}

async function uploadFile(c: Client, name: string, content: Buffer, folder = folderId) {
  const { payload, contentType } = multipartBody(name, content, 'text/plain');
  const r = await c.send('POST', `/api/v1/folders/${folder}/files`, payload, { 'content-type': contentType });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  await runJobs();
  return r.body.id as string;
}

/** Changes the tenant's settings for the rest of the test (put back when it ends, even failed); returns them as they were. */
async function changePolicy(tenantId: string, change: (s: TenantSettings) => TenantSettings): Promise<TenantSettings> {
  const current = await k.services.tenantPolicy.get(tenantId);
  await k.services.tenantPolicy.update(systemActor(tenantId as TenantId), change(current));
  onTestFinished(async () => {
    await k.services.tenantPolicy.update(systemActor(tenantId as TenantId), current);
  });
  return current;
}

const shareInput = (fileIds: string[], recipients = ['taro@partner.example.jp']) => ({
  fileIds,
  recipients,
  purpose: '契約書の確認',
  message: 'ご確認ください',
  expiresInDays: 7,
  maxDownloads: 2,
  verification: 'code',
  lang: 'ja',
});

scanner('file exchange on ' + (process.env.KURA_TEST_DB ?? 'sqlite'), () => {
  let requestId: string;
  let requestToken: string;

  it('upload request: link mailed, code verified on the internet zone, docm uploaded, sanitised docx in the LGWAN inbox [LG-03, TLS-03, TLS-04]', async () => {
    const created = await staff.client.post('/api/v1/exchange/requests', {
      title: '申請書類の提出',
      message: '申請書をアップロードしてください',
      recipientEmail: 'hanako@citizen.example.jp',
      expiresInDays: 7,
      allowedTypes: ['office', 'office_macro', 'pdf'],
      maxBytes: 5_000_000,
      requireCode: true,
      lang: 'ja',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    requestId = created.body.id;
    requestToken = /\/x\/r\/([A-Za-z0-9_-]{43})$/.exec(created.body.link)![1]!;
    const linkMail = (await outbox(tenant.id, 'exchange.request_link'))[0]!;
    expect(linkMail.to_address).toBe('hanako@citizen.example.jp');
    expect(linkMail.body).toContain(created.body.link);
    // The token is stored only hashed.
    const row = await k.services.database.db
      .selectFrom('exchange_requests')
      .selectAll()
      .where('id', '=', requestId)
      .executeTakeFirstOrThrow();
    expect(row.token_hash).not.toContain(requestToken);

    const guest = new Outsider(internet);
    // The LGWAN listener does not serve outside parties.
    expect((await new Outsider(lgwan).req('GET', `/api/v1/ext/requests/${requestToken}`)).status).toBe(404);
    const before = await guest.req('GET', `/api/v1/ext/requests/${requestToken}`);
    expect(before.body).toEqual({ verified: false, emailHint: 'ha***@citizen.example.jp' });
    // Nothing can be uploaded before the code.
    const early = multipartBody('申請書.docm', await docm());
    expect(
      (
        await guest.req(
          'POST',
          `/api/v1/ext/requests/${requestToken}/files`,
          undefined,
          { 'content-type': early.contentType },
          early.payload,
        )
      ).body.error.code,
    ).toBe('exchange.verification_required');
    expect((await guest.req('POST', `/api/v1/ext/requests/${requestToken}/code`)).status).toBe(204);
    const code = await latestCode(tenant.id, 'hanako@citizen.example.jp');
    const wrong = code === '000000' ? '111111' : '000000';
    expect((await guest.req('POST', `/api/v1/ext/requests/${requestToken}/verify`, { code: wrong })).body.error.code).toBe(
      'exchange.code_invalid',
    );
    expect((await guest.req('POST', `/api/v1/ext/requests/${requestToken}/verify`, { code })).status).toBe(204);
    const view = await guest.req('GET', `/api/v1/ext/requests/${requestToken}`);
    expect(view.body).toMatchObject({ verified: true, title: '申請書類の提出', maxBytes: 5_000_000, files: [] });

    // Type and size rules are refused before any byte is stored, with the reason.
    const exe = multipartBody('setup.exe', Buffer.from('MZ'));
    const refused = await guest.req(
      'POST',
      `/api/v1/ext/requests/${requestToken}/files`,
      undefined,
      { 'content-type': exe.contentType },
      exe.payload,
    );
    expect(refused.status).toBe(415);
    expect(refused.body.error.code).toBe('exchange.type_not_allowed');
    const tooBig = await guest.req('POST', `/api/v1/ext/requests/${requestToken}/uploads`, undefined, {
      'tus-resumable': '1.0.0',
      'upload-length': '6000000',
      'upload-metadata': `filename ${Buffer.from('大きい.pdf').toString('base64')}`,
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('exchange.too_large');

    const doc = await docm();
    const body = multipartBody('申請書.docm', doc, 'application/vnd.ms-word.document.macroEnabled.12');
    const up = await guest.req(
      'POST',
      `/api/v1/ext/requests/${requestToken}/files`,
      undefined,
      { 'content-type': body.contentType },
      body.payload,
    );
    expect(up.status, JSON.stringify(up.body)).toBe(201);
    expect(up.body).toMatchObject({ name: '申請書.docm', size: doc.length });
    expect(up.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    // The receipt lists it.
    expect((await guest.req('GET', `/api/v1/ext/requests/${requestToken}`)).body.files).toHaveLength(1);

    await runJobs();
    const inbox = await staff.client.get('/api/v1/exchange/inbox');
    expect(inbox.status).toBe(200);
    const item = inbox.body.items.find((i: { requestId: string }) => i.requestId === requestId);
    expect(item).toMatchObject({ name: '申請書.docm', state: 'available', requestTitle: '申請書類の提出' });
    expect(['sanitised', 'sanitised_with_loss']).toContain(item.sanitizeState);
    const dl = await staff.client.send('GET', `/api/v1/exchange/inbox/${item.fileId}/content`, '');
    expect(dl.status).toBe(200);
    expect(dl.headers['x-kura-sanitised']).toBe('1');
    expect(String(dl.headers['content-disposition'])).toContain('.docx');
    // Staff were told; the upload is audited as the outside party's.
    const received = await events(tenant.id, 'exchange.file_received');
    expect(received[0]).toMatchObject({ actor_type: 'external', ip: '203.0.113.9' });
    const notes = await staff.client.get('/api/v1/notifications');
    expect(notes.body.items.some((n: { kind: string }) => n.kind === 'exchange.received')).toBe(true);
  });

  it('upload request: a resumable (tus) upload by the outside party ends with a receipt and its SHA-256 [LG-03, TLS-02]', async () => {
    const guest = new Outsider(internet);
    // A link without a code is a public link: the tenant allows them here (AC-06).
    await changePolicy(tenant.id, (p) => ({
      ...p,
      features: { ...p.features, internet: { ...p.features.internet, public_links: true } },
    }));
    const created = await staff.client.post('/api/v1/exchange/requests', {
      title: '見積書/請求書（tus）',
      recipientEmail: 'tus@citizen.example.jp',
      expiresInDays: 2,
      maxBytes: 100_000,
      requireCode: false,
      lang: 'en',
    });
    const token = /\/x\/r\/(.+)$/.exec(created.body.link)![1]!;
    const data = Buffer.alloc(70_000, 0x41);
    const tus = { 'tus-resumable': '1.0.0' };
    const post = await guest.req('POST', `/api/v1/ext/requests/${token}/uploads`, undefined, {
      ...tus,
      'upload-length': String(data.length),
      'upload-metadata': `filename ${Buffer.from('memo.txt').toString('base64')}`,
    });
    expect(post.status, JSON.stringify(post.body)).toBe(201);
    const location = String(post.headers.location);
    expect(location).toMatch(new RegExp(`^/api/v1/ext/requests/${token}/uploads/[0-9a-f-]{36}$`));
    const patch = (offset: number, chunk: Buffer) =>
      guest.req(
        'PATCH',
        location,
        undefined,
        { ...tus, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
        chunk,
      );
    expect((await patch(0, data.subarray(0, 65_536))).status).toBe(204);
    expect((await guest.req('HEAD', location, undefined, tus)).headers['upload-offset']).toBe('65536');
    // A wrong offset is refused (409).
    expect((await patch(10, data.subarray(10))).status).toBe(409);
    const done = await patch(65_536, data.subarray(65_536));
    expect(done.status).toBe(204);
    const view = await guest.req('GET', `/api/v1/ext/requests/${token}`);
    expect(view.body.files).toEqual([
      expect.objectContaining({ name: 'memo.txt', size: data.length, sha256: done.headers['kura-sha256'] }),
    ]);
    // The outside party cannot reach a staff member's own upload session through the link.
    const own = await staff.client.send('POST', '/api/v1/uploads', '', {
      'tus-resumable': '1.0.0',
      'upload-length': '10',
      'upload-metadata': `filename ${Buffer.from('staff.txt').toString('base64')},folderId ${Buffer.from(folderId).toString('base64')}`,
    });
    expect(own.status).toBe(201);
    const staffUpload = String(own.headers.location).split('/').pop();
    expect((await guest.req('HEAD', `/api/v1/ext/requests/${token}/uploads/${staffUpload}`, undefined, tus)).status).toBe(404);
    expect((await guest.req('DELETE', `/api/v1/ext/requests/${token}/uploads/${staffUpload}`, undefined, tus)).status).toBe(404);
    // Nor can staff drive the outside party's session through their own endpoint.
    expect((await staff.client.send('HEAD', `/api/v1/uploads/${location.split('/').pop()}`, '', tus)).status).toBe(404);
    // On the LGWAN listener the same upload session is not reachable.
    expect((await new Outsider(lgwan).req('HEAD', location, undefined, tus)).status).toBe(404);
  });

  it('guessed, revoked and other-zone links all give the same 404 [TLS-03]', async () => {
    const guest = new Outsider(internet);
    const guessed = await guest.req('GET', `/api/v1/ext/requests/${'A'.repeat(43)}`);
    const malformed = await guest.req('GET', '/api/v1/ext/requests/short');
    expect(guessed.status).toBe(404);
    expect(guessed.body.error.code).toBe('exchange.not_found');
    expect(malformed.status).toBe(404);
    expect(malformed.body.error.code).toBe('exchange.not_found');
    expect((await staff.client.post(`/api/v1/exchange/requests/${requestId}/revoke`)).status).toBe(204);
    const revoked = await guest.req('GET', `/api/v1/ext/requests/${requestToken}`);
    expect(revoked.status).toBe(404);
    expect(revoked.body.error.code).toBe(guessed.body.error.code);
    expect((await events(tenant.id, 'exchange.request_revoked')).length).toBe(1);
  });

  /** A new request link for `email`, an outsider on it, and the code mailed to them. */
  const codeSentFor = async (title: string, email: string) => {
    const created = await staff.client.post('/api/v1/exchange/requests', {
      title,
      recipientEmail: email,
      expiresInDays: 3,
      maxBytes: 1000,
      lang: 'ja',
    });
    const token = /\/x\/r\/(.+)$/.exec(created.body.link)![1]!;
    const guest = new Outsider(internet);
    await guest.req('POST', `/api/v1/ext/requests/${token}/code`);
    return { token, guest, code: await latestCode(tenant.id, email) };
  };

  it('five wrong codes lock the link, a new code does not reset the count, the right code no longer works [TLS-03]', async () => {
    const sent = await codeSentFor('ロック確認', 'lock@citizen.example.jp');
    const { token, guest } = sent;
    let code = sent.code;
    const wrongFor = (c: string) => (c === '000000' ? '111111' : '000000');
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push((await guest.req('POST', `/api/v1/ext/requests/${token}/verify`, { code: wrongFor(code) })).body.error.code);
    // Asking for another code does not forgive the wrong tries.
    clock.advance(61_000);
    expect((await guest.req('POST', `/api/v1/ext/requests/${token}/code`)).status).toBe(204);
    code = await latestCode(tenant.id, 'lock@citizen.example.jp');
    answers.push((await guest.req('POST', `/api/v1/ext/requests/${token}/verify`, { code: wrongFor(code) })).body.error.code);
    expect(answers).toEqual([
      'exchange.code_invalid',
      'exchange.code_invalid',
      'exchange.code_invalid',
      'exchange.code_invalid',
      'exchange.code_locked',
    ]);
    const right = await guest.req('POST', `/api/v1/ext/requests/${token}/verify`, { code });
    expect(right.status).toBe(429);
    expect(right.body.error.code).toBe('exchange.code_locked');
  });

  it('parallel wrong answers each use up an attempt [TLS-03]', async () => {
    const { token, guest, code } = await codeSentFor('並列', 'parallel@citizen.example.jp');
    const wrong = code === '000000' ? '111111' : '000000';
    const replies = await Promise.all(
      Array.from({ length: 8 }, () => guest.req('POST', `/api/v1/ext/requests/${token}/verify`, { code: wrong })),
    );
    expect(replies.filter((r) => r.body.error.code === 'exchange.code_invalid').length).toBeLessThanOrEqual(4);
    expect((await guest.req('POST', `/api/v1/ext/requests/${token}/verify`, { code })).body.error.code).toBe(
      'exchange.code_locked',
    );
  });

  let shareId: string;
  let fileId: string;
  const content = Buffer.from('見積書 第3版 — 金額 1,200,000 円\n');

  it('share: the confirmation step lists recipients and domains; approval before anything is sent [TLS-03, LG-03, HR-05]', async () => {
    fileId = await uploadFile(staff.client, '見積書.txt', content);
    const preview = await staff.client.post(
      '/api/v1/exchange/shares/preview',
      shareInput([fileId], ['taro@partner.example.jp', 'jiro@sub.partner.example.jp']),
    );
    expect(preview.status, JSON.stringify(preview.body)).toBe(200);
    expect(preview.body.domains).toEqual(['partner.example.jp', 'sub.partner.example.jp']);
    expect(preview.body.approvalRequired).toBe(true);
    expect(preview.body.approvalReasons).toEqual(['policy']);
    expect(preview.body.approvers.map((a: { id: string }) => a.id)).toEqual([approver.id]);
    // A file the personal-data check could not read needs the approval like a hit (PII-02).
    const aside = (await staff.client.post('/api/v1/folders', { parentId: null, name: '確認できない名簿' })).body.id as string;
    const unread = await uploadFile(staff.client, '名簿.csv', Buffer.from([0x30, 0x2c, 0x80, 0xff, 0xfe, 0x81, 0x0a]), aside);
    const unreadPreview = await staff.client.post('/api/v1/exchange/shares/preview', shareInput([unread]));
    expect(unreadPreview.body.approvalReasons).toEqual(['policy', 'pii_unreadable']);
    // Without confirming exactly these domains nothing is created.
    const unconfirmed = await staff.client.post('/api/v1/exchange/shares', {
      ...shareInput([fileId], ['taro@partner.example.jp', 'jiro@sub.partner.example.jp']),
      confirmedDomains: ['partner.example.jp'],
    });
    expect(unconfirmed.body.error.code).toBe('share.confirmation_required');
    const created = await staff.client.post('/api/v1/exchange/shares', {
      ...shareInput([fileId], ['taro@partner.example.jp', 'jiro@sub.partner.example.jp']),
      confirmedDomains: preview.body.domains,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    shareId = created.body.id;
    expect(created.body).toMatchObject({ state: 'pending', purpose: '契約書の確認', maxDownloads: 2 });
    // Nothing reaches a recipient before approval.
    expect(await outbox(tenant.id, 'exchange.share_link')).toHaveLength(0);
    expect((await outbox(tenant.id, 'exchange.approval_requested')).map((x) => x.to_address)).toEqual([
      'boss@city.example.lg.jp',
    ]);
    const notices = await approver.client.get('/api/v1/notifications');
    expect(notices.body.items.some((n: { kind: string }) => n.kind === 'exchange.approval_requested')).toBe(true);
    // The sender cannot decide (role), a stranger cannot see it (404).
    expect((await staff.client.post(`/api/v1/exchange/approvals/${shareId}`, { decision: 'approve' })).status).toBe(403);
    expect((await stranger.client.get(`/api/v1/exchange/shares/${shareId}`)).status).toBe(404);
    // A rejection needs a comment.
    expect((await approver.client.post(`/api/v1/exchange/approvals/${shareId}`, { decision: 'reject' })).status).toBe(400);
    const list = await approver.client.get('/api/v1/exchange/approvals');
    expect(list.body.items.map((s: { id: string }) => s.id)).toContain(shareId);
    const view = await approver.client.send('GET', `/api/v1/exchange/approvals/${shareId}/files/${fileId}/content`, '');
    expect(view.status).toBe(200);
    expect(view.raw.equals(content)).toBe(true);
    const approved = await approver.client.post(`/api/v1/exchange/approvals/${shareId}`, {
      decision: 'approve',
      comment: '確認しました',
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.state).toBe('active');
    const links = await outbox(tenant.id, 'exchange.share_link');
    expect(links.map((l) => l.to_address).sort()).toEqual(['jiro@sub.partner.example.jp', 'taro@partner.example.jp']);
    // TLS-04: no file content and no file names in the mail to the recipient.
    for (const l of links) {
      expect(l.body).not.toContain('見積書');
      expect(l.body).not.toContain('1,200,000');
    }
    expect((await events(tenant.id, 'exchange.share_approved')).length).toBe(1);
    expect((await events(tenant.id, 'exchange.share_sent')).length).toBe(1);
  });

  it('share: the recipient verifies a code, downloads within the limit, the sender is told [TLS-03, TLS-04, LG-03]', async () => {
    const mail = (await outbox(tenant.id, 'exchange.share_link')).find((l) => l.to_address === 'taro@partner.example.jp')!;
    const token = /\/x\/s\/([A-Za-z0-9_-]{43})/.exec(mail.body)![1]!;
    const guest = new Outsider(internet);
    const first = await guest.req('GET', `/api/v1/ext/shares/${token}`);
    expect(first.body).toEqual({ verified: false, verification: 'code', emailHint: 'ta***@partner.example.jp' });
    expect((await guest.req('GET', `/api/v1/ext/shares/${token}/files/${fileId}/content`)).body.error.code).toBe(
      'exchange.verification_required',
    );
    await guest.req('POST', `/api/v1/ext/shares/${token}/code`);
    const code = await latestCode(tenant.id, 'taro@partner.example.jp');
    expect((await guest.req('POST', `/api/v1/ext/shares/${token}/verify`, { code })).status).toBe(204);
    const view = await guest.req('GET', `/api/v1/ext/shares/${token}`);
    expect(view.body).toMatchObject({
      verified: true,
      purpose: '契約書の確認',
      files: [{ fileId, name: '見積書.txt', downloadsLeft: 2 }],
    });
    const dl1 = await guest.req('GET', `/api/v1/ext/shares/${token}/files/${fileId}/content`);
    expect(dl1.status).toBe(200);
    expect(dl1.raw.equals(content)).toBe(true);
    // The limit is in bytes (2 × the size): ranges can resume but never add up to more.
    const url = `/api/v1/ext/shares/${token}/files/${fileId}/content`;
    const tail = content.length - 3;
    const part = await guest.req('GET', url, undefined, { range: 'bytes=3-' });
    expect(part.status).toBe(206);
    expect(part.raw.length).toBe(tail);
    // 1 × size + (size − 3) used: a whole download no longer fits, the last 3 bytes do.
    expect((await guest.req('GET', url)).status).toBe(404);
    expect((await guest.req('GET', url, undefined, { range: 'bytes=0-2' })).status).toBe(206);
    const over = await guest.req('GET', url, undefined, { range: 'bytes=0-0' });
    expect(over.status).toBe(404);
    expect(over.body.error.code).toBe('exchange.not_found');
    for (let i = 0; i < 3; i++) expect((await guest.req('GET', url, undefined, { range: 'bytes=1-' })).status).toBe(404);
    const refused = await events(tenant.id, 'exchange.download_refused');
    expect(refused[0]).toMatchObject({ outcome: 'denied', actor_id: 'taro@partner.example.jp', ip: '203.0.113.9' });
    // Audited with IP and user agent; the sender gets a notice and a mail.
    const dls = await events(tenant.id, 'exchange.downloaded');
    expect(dls.length).toBe(3);
    expect(dls[0]).toMatchObject({
      actor_type: 'external',
      actor_id: 'taro@partner.example.jp',
      ip: '203.0.113.9',
      user_agent: 'outsider-test',
    });
    expect((await outbox(tenant.id, 'exchange.downloaded')).length).toBe(2);
    const sent = await staff.client.get('/api/v1/exchange/shares');
    const mine = sent.body.items.find((s: { id: string }) => s.id === shareId);
    expect(mine.recipients.find((r: { email: string }) => r.email === 'taro@partner.example.jp')).toMatchObject({ downloads: 2 });
    expect(mine.deleteAt).toBeTruthy();
  });

  it('labels, domains, password-only links and feature switches are enforced [PII-01, TLS-03, AC-06]', async () => {
    const secret = await uploadFile(staff.client, 'マイナンバー一覧.txt', Buffer.from('氏名,番号\n'));
    expect((await staff.client.req('PUT', `/api/v1/files/${secret}/labels`, { labels: ['特定個人情報'] })).status).toBe(200);
    const forbidden = await staff.client.post('/api/v1/exchange/shares/preview', shareInput([secret]));
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('share.label_forbids_external');
    expect(forbidden.body.error.reasons).toEqual(['特定個人情報']);
    const blocked = await events(tenant.id, 'exchange.share_blocked');
    expect(blocked[0]).toMatchObject({ outcome: 'denied', reason: 'share.label_forbids_external' });

    const current = await k.services.tenantPolicy.get(tenant.id);
    await k.services.tenantPolicy.update(systemActor(tenant.id as TenantId), {
      ...current,
      exchange: { ...current.exchange, denyDomains: ['*.competitor.example'] },
    });
    const denied = await staff.client.post('/api/v1/exchange/shares/preview', shareInput([fileId], ['spy@x.competitor.example']));
    expect(denied.body.error.code).toBe('share.domain_denied');
    const pw = await staff.client.post('/api/v1/exchange/shares/preview', {
      ...shareInput([fileId]),
      verification: 'password',
      password: 'long-enough-password',
    });
    expect(pw.body.error.code).toBe('share.password_not_allowed');

    await k.services.tenantPolicy.update(systemActor(tenant.id as TenantId), {
      ...current,
      features: {
        ...current.features,
        lgwan: { ...current.features.lgwan, external_sharing: false },
        internet: { ...current.features.internet, upload_requests: false },
      },
    });
    const off = await staff.client.post('/api/v1/exchange/shares/preview', shareInput([fileId]));
    expect(off.body.error.code).toBe('tenant.feature_disabled');
    const noRequests = await staff.client.post('/api/v1/exchange/requests', {
      title: 't',
      recipientEmail: 'a@b.example.jp',
      expiresInDays: 1,
      maxBytes: 10,
    });
    expect(noRequests.body.error.code).toBe('tenant.feature_disabled');
    await k.services.tenantPolicy.update(systemActor(tenant.id as TenantId), current);
  });

  it('another tenant sees none of it: every exchange route answers 404 [AC-08]', async () => {
    const c = stranger.client;
    expect((await c.get(`/api/v1/exchange/shares/${shareId}`)).status).toBe(404);
    expect((await c.post(`/api/v1/exchange/shares/${shareId}/revoke`)).status).toBe(404);
    expect((await c.get(`/api/v1/exchange/requests/${requestId}`)).status).toBe(404);
    expect((await c.post(`/api/v1/exchange/requests/${requestId}/revoke`)).status).toBe(404);
    expect((await c.send('GET', `/api/v1/exchange/inbox/${fileId}/content`, '')).status).toBe(404);
    expect((await c.get('/api/v1/exchange/inbox')).body.items).toEqual([]);
    expect((await c.get('/api/v1/exchange/shares')).body.items).toEqual([]);
    const preview = await c.post('/api/v1/exchange/shares/preview', shareInput([fileId]));
    expect(preview.status).toBe(404);
    // An approver of the other tenant cannot decide or view it either.
    const otherApprover = await m.member(other, 'approver');
    expect((await otherApprover.client.post(`/api/v1/exchange/approvals/${shareId}`, { decision: 'approve' })).status).toBe(404);
    expect(
      (await otherApprover.client.send('GET', `/api/v1/exchange/approvals/${shareId}/files/${fileId}/content`, '')).status,
    ).toBe(404);
    expect((await admin.client.get('/api/v1/exchange/approvers')).status).toBe(200);
    expect((await otherApprover.client.get('/api/v1/exchange/approvers')).status).toBe(403);
  });

  it('approvers per group with deputies; "all" needs one approval from each group; undecided requests expire [LG-03]', async () => {
    const a1 = await m.member(tenant, 'approver');
    const a2 = await m.member(tenant, 'approver');
    const deputy = await m.member(tenant, 'approver');
    const g1 = await admin.client.post('/api/v1/admin/groups', { name: '総務課', memberIds: [staff.id] });
    const g2 = await admin.client.post('/api/v1/admin/groups', { name: '情報政策課', memberIds: [staff.id] });
    expect(
      (
        await admin.client.req('PUT', `/api/v1/exchange/approvers/${g1.body.id}`, {
          approvers: [{ userId: a1.id }, { userId: deputy.id, deputy: true }],
        })
      ).status,
    ).toBe(204);
    expect(
      (await admin.client.req('PUT', `/api/v1/exchange/approvers/${g2.body.id}`, { approvers: [{ userId: a2.id }] })).status,
    ).toBe(204);
    // Staff cannot be approvers.
    expect(
      (await admin.client.req('PUT', `/api/v1/exchange/approvers/${g2.body.id}`, { approvers: [{ userId: staff.id }] })).body
        .error.code,
    ).toBe('approvers.invalid_user');
    const current = await k.services.tenantPolicy.get(tenant.id);
    await k.services.tenantPolicy.update(systemActor(tenant.id as TenantId), {
      ...current,
      exchange: { ...current.exchange, approval: { ...current.exchange.approval, mode: 'all', pendingHours: 1 } },
    });
    const input = shareInput([fileId], ['hanako@partner.example.jp']);
    const preview = await staff.client.post('/api/v1/exchange/shares/preview', input);
    expect(preview.body.approvers.map((x: { id: string }) => x.id).sort()).toEqual([a1.id, a2.id, deputy.id].sort());
    // The tenant-wide approver is not asked once the sender's groups have their own.
    expect(preview.body.approvers.map((x: { id: string }) => x.id)).not.toContain(approver.id);
    const created = await staff.client.post('/api/v1/exchange/shares', { ...input, confirmedDomains: preview.body.domains });
    expect((await approver.client.post(`/api/v1/exchange/approvals/${created.body.id}`, { decision: 'approve' })).status).toBe(
      404,
    );
    const first = await deputy.client.post(`/api/v1/exchange/approvals/${created.body.id}`, { decision: 'approve' });
    expect(first.body.state).toBe('pending');
    // Deciding twice is refused.
    expect(
      (await deputy.client.post(`/api/v1/exchange/approvals/${created.body.id}`, { decision: 'approve' })).body.error.code,
    ).toBe('share.not_pending');
    const second = await a2.client.post(`/api/v1/exchange/approvals/${created.body.id}`, { decision: 'approve' });
    expect(second.body.state).toBe('active');

    // A request nobody decides expires after pendingHours; the sender is told.
    const late = await staff.client.post('/api/v1/exchange/shares', { ...input, confirmedDomains: preview.body.domains });
    expect(late.body.state).toBe('pending');
    clock.advance(61 * 60_000);
    await k.services.exchangeRetention.run();
    const row = await k.services.database.db
      .selectFrom('exchange_shares')
      .select('state')
      .where('id', '=', late.body.id)
      .executeTakeFirstOrThrow();
    expect(row.state).toBe('expired');
    expect((await events(tenant.id, 'exchange.approval_expired')).length).toBe(1);
    expect((await outbox(tenant.id, 'exchange.expired')).map((x) => x.to_address)).toEqual(['staff@city.example.lg.jp']);
    await k.services.tenantPolicy.update(systemActor(tenant.id as TenantId), current);
  });

  it('an outside download of a file scanned more than a day ago rescans it first [MAL-04]', async () => {
    const mail = (await outbox(tenant.id, 'exchange.share_link')).find((l) => l.to_address === 'hanako@partner.example.jp')!;
    const token = /\/x\/s\/([A-Za-z0-9_-]{43})/.exec(mail.body)![1]!;
    clock.advance(25 * 3_600_000);
    const guest = new Outsider(internet);
    await guest.req('POST', `/api/v1/ext/shares/${token}/code`);
    await guest.req('POST', `/api/v1/ext/shares/${token}/verify`, {
      code: await latestCode(tenant.id, 'hanako@partner.example.jp'),
    });
    const before = (await events(tenant.id, 'file.rescanned')).length;
    const dl = await guest.req('GET', `/api/v1/ext/shares/${token}/files/${fileId}/content`);
    expect(dl.status).toBe(200);
    expect((await events(tenant.id, 'file.rescanned')).length).toBe(before + 1);
    // A label set after the share was made stops further downloads (the rules apply at each one).
    const actor = { type: 'user' as const, id: staff.id, tenantId: tenant.id as TenantId, zone: 'lgwan' as const };
    await k.services.labels.setFileLabels(actor, fileId, ['機密性3']);
    const blocked = await guest.req('GET', `/api/v1/ext/shares/${token}/files/${fileId}/content`);
    expect(blocked.status).toBe(404);
    const ev = (await events(tenant.id, 'exchange.share_blocked')).find((e) => e.actor_id === 'hanako@partner.example.jp');
    expect(ev).toMatchObject({ outcome: 'denied', reason: 'share.label_forbids_external' });
    await k.services.labels.setFileLabels(actor, fileId, []);
  });

  it('HR-05: a received file moved out of the request folder is kept; the others go to the trash [HR-05]', async () => {
    const db = k.services.database.db;
    const tusReq = await db
      .selectFrom('exchange_requests')
      .selectAll()
      .where('recipient_email', '=', 'tus@citizen.example.jp')
      .executeTakeFirstOrThrow();
    const [memo] = await db.selectFrom('exchange_request_files').selectAll().where('request_id', '=', tusReq.id).execute();
    // A second received file, then the owner moves the first one to another folder to keep it.
    const actor = { type: 'user' as const, id: staff.id, tenantId: tenant.id as TenantId, zone: 'lgwan' as const };
    await k.services.files.move(actor, memo!.file_id, folderId, 'keep_both');
    const other = await k.services.files.copy(actor, memo!.file_id, {
      folderId: tusReq.folder_id,
      name: 'second.txt',
      onConflict: 'keep_both',
    });
    await db
      .insertInto('exchange_request_files')
      .values({ ...memo!, id: crypto.randomUUID(), file_id: other.id, name: 'second.txt' })
      .execute();
    await db
      .updateTable('exchange_requests')
      .set({ state: 'closed', delete_at: clock.now().toISOString() })
      .where('id', '=', tusReq.id)
      .execute();
    await k.services.exchangeRetention.run();
    const state = async (id: string) =>
      (await db.selectFrom('files').select('deleted_at').where('id', '=', id).executeTakeFirstOrThrow()).deleted_at;
    expect(await state(memo!.file_id)).toBeNull();
    expect(await state(other.id)).not.toBeNull();
  });

  it('HR-05: exchanged copies are deleted N days after the last download or expiry, with notice the day before [HR-05, LG-03]', async () => {
    const mail = (await outbox(tenant.id, 'exchange.share_link')).find((l) => l.to_address === 'jiro@sub.partner.example.jp')!;
    const token = /\/x\/s\/([A-Za-z0-9_-]{43})/.exec(mail.body)![1]!;
    const share = await k.services.database.db
      .selectFrom('exchange_shares')
      .selectAll()
      .where('id', '=', shareId)
      .executeTakeFirstOrThrow();
    // Half a day before deletion: the owner is told.
    clock.set(new Date(new Date(share.delete_at!).getTime() - 12 * 3_600_000));
    let r = await k.services.exchangeRetention.run();
    expect(r.warned).toBeGreaterThanOrEqual(1);
    expect((await outbox(tenant.id, 'exchange.deletion_notice')).length).toBeGreaterThanOrEqual(1);
    // (The share itself ended at its expiry; deletion comes N days after that or the last download.)
    expect((await new Outsider(internet).req('GET', `/api/v1/ext/shares/${token}`)).status).toBe(404);
    clock.set(new Date(new Date(share.delete_at!).getTime() + 1000));
    r = await k.services.exchangeRetention.run();
    expect(r.expired).toBeGreaterThanOrEqual(1);
    const after = await k.services.database.db
      .selectFrom('exchange_shares')
      .selectAll()
      .where('id', '=', shareId)
      .executeTakeFirstOrThrow();
    expect(after.state).toBe('deleted');
    expect((await new Outsider(internet).req('GET', `/api/v1/ext/shares/${token}`)).status).toBe(404);
    expect((await events(tenant.id, 'exchange.share_deleted')).length).toBe(1);
    // The revoked request's received files went to the owner's trash by now as well, except one the
    // owner had moved out of the request's folder to keep it.
    const db = k.services.database.db;
    const req = await db.selectFrom('exchange_requests').selectAll().where('id', '=', requestId).executeTakeFirstOrThrow();
    expect(req.state).toBe('deleted');
    const [kept] = await db.selectFrom('exchange_request_files').selectAll().where('request_id', '=', requestId).execute();
    expect(
      (await db.selectFrom('files').select('deleted_at').where('id', '=', kept!.file_id).executeTakeFirstOrThrow()).deleted_at,
    ).not.toBeNull();
  });

  it('what went through the exchange is purged from the trash after its period, with the folder of its request [HR-05]', async () => {
    const db = k.services.database.db;
    const actor = { type: 'user' as const, id: staff.id, tenantId: tenant.id as TenantId, zone: 'lgwan' as const };
    // The owner puts a shared file and the folder of the revoked request in the trash; the HR-05
    // deletion already put the request's received files there.
    const [shared] = await db.selectFrom('exchange_share_files').select('file_id').where('tenant_id', '=', tenant.id).execute();
    await k.services.files.trash(actor, shared!.file_id);
    const req = await db.selectFrom('exchange_requests').selectAll().where('id', '=', requestId).executeTakeFirstOrThrow();
    await k.services.folders.trash(actor, req.folder_id);
    const received = await db
      .selectFrom('exchange_request_files')
      .select('file_id')
      .where('request_id', '=', requestId)
      .execute();
    expect(received.length).toBeGreaterThan(0);
    clock.advance(31 * 86_400_000);
    // The daily job (it used to fail on the exchange's references and stop every tenant after this one).
    await k.services.jobHandlers['files.purge_trash']!({} as never);
    const gone = async (ids: string[]) =>
      (await db.selectFrom('files').select('id').where('id', 'in', ids).execute()).length === 0;
    expect(await gone([shared!.file_id])).toBe(true);
    expect(await gone(received.map((r) => r.file_id))).toBe(true);
    expect(
      await db.selectFrom('exchange_share_files').select('file_id').where('file_id', '=', shared!.file_id).execute(),
    ).toEqual([]);
    expect(await db.selectFrom('exchange_requests').select('id').where('id', '=', requestId).execute()).toEqual([]);
    expect(await db.selectFrom('folders').select('id').where('id', '=', req.folder_id).execute()).toEqual([]);
    // The share itself is kept (its record of what was sent stays in the audit trail).
    expect(
      (await db.selectFrom('exchange_shares').select('state').where('id', '=', shareId).executeTakeFirstOrThrow()).state,
    ).toBe('deleted');
    expect((await events(tenant.id, 'file.purged')).map((e) => e.target_id)).toContain(shared!.file_id);
    expect((await events(tenant.id, 'folder.purged')).map((e) => e.target_id)).toContain(req.folder_id);
  });

  it('a malformed link token is the same 404 as any unusable link, with no fault event [TLS-03]', async () => {
    const guest = new Outsider(internet);
    for (const [method, url, headers] of [
      ['POST', '/api/v1/ext/requests/short/uploads', { 'tus-resumable': '1.0.0', 'upload-length': '1' }],
      ['HEAD', `/api/v1/ext/requests/${'a'.repeat(43)}/uploads/not-a-uuid`, { 'tus-resumable': '1.0.0' }],
      ['GET', '/api/v1/ext/shares/short', {}],
      ['POST', '/api/v1/ext/requests/sh%2Frt/code', {}],
      ['GET', `/api/v1/ext/shares/${'a'.repeat(44)}/files/00000000-0000-4000-8000-000000000000/content`, {}],
    ] as const) {
      const r = await guest.req(method, url, undefined, headers);
      expect(r.status, `${method} ${url}`).toBe(404);
    }
    expect(await events(SYSTEM_TENANT_ID, 'system.fault')).toEqual([]);
  });
});

scanner('exchange rules that later changes must not bypass on ' + (process.env.KURA_TEST_DB ?? 'sqlite'), () => {
  let t: TestTenant;
  let sender: Member;
  let boss: Member;
  let tenantAdmin: Member;
  let folder: string;
  let file: string;
  let pendingId: string;
  const content = Buffer.from('回答書 第2版\n');

  beforeAll(async () => {
    t = await m.tenant();
    sender = await m.member(t);
    boss = await m.member(t, 'approver');
    tenantAdmin = await m.member(t, 'tenant_admin');
    folder = (await sender.client.post('/api/v1/folders', { parentId: null, name: '回答' })).body.id;
    file = await uploadFile(sender.client, '回答書.txt', content, folder);
  }, 90_000);

  const tokenOf = (link: string) => /\/x\/r\/([A-Za-z0-9_-]{43})$/.exec(link)![1]!;

  /** An outsider verified on the request link `token` by the code mailed to `email`. */
  const verifiedGuest = async (token: string, email: string) => {
    const guest = new Outsider(internet);
    expect((await guest.req('POST', `/api/v1/ext/requests/${token}/code`)).status).toBe(204);
    const code = await latestCode(t.id, email);
    expect((await guest.req('POST', `/api/v1/ext/requests/${token}/verify`, { code })).status).toBe(204);
    return guest;
  };

  it('a request link without a code needs the public-link switch, and asks for a code once it is off [AC-06, TLS-03, TLS-04]', async () => {
    const input = {
      title: '公開リンク',
      recipientEmail: 'open@citizen.example.jp',
      expiresInDays: 3,
      maxBytes: 1000,
      requireCode: false,
      lang: 'ja',
    };
    // Public links are off by default: refused, and nothing is made or mailed.
    const refused = await sender.client.post('/api/v1/exchange/requests', input);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'tenant.feature_disabled', reasons: ['public_links'] });
    expect(await outbox(t.id, 'exchange.request_link')).toHaveLength(0);
    expect((await sender.client.get('/api/v1/exchange/requests')).body.items).toEqual([]);

    const saved = await changePolicy(t.id, (p) => ({
      ...p,
      features: { ...p.features, internet: { ...p.features.internet, public_links: true } },
    }));
    const created = await sender.client.post('/api/v1/exchange/requests', input);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.requireCode).toBe(false);
    const token = tokenOf(created.body.link);
    const url = `/api/v1/ext/requests/${token}`;
    const guest = new Outsider(internet);
    expect((await guest.req('GET', url)).body).toMatchObject({ verified: true, title: '公開リンク' });

    // Switched off again: the same link now needs the code mailed to the request's address.
    await k.services.tenantPolicy.update(systemActor(t.id), saved);
    expect((await guest.req('GET', url)).body).toEqual({ verified: false, emailHint: 'op***@citizen.example.jp' });
    const up = multipartBody('a.txt', Buffer.from('hello'), 'text/plain');
    const early = await guest.req('POST', `${url}/files`, undefined, { 'content-type': up.contentType }, up.payload);
    expect(early.status).toBe(401);
    expect(early.body.error.code).toBe('exchange.verification_required');
    const tus = await guest.req('POST', `${url}/uploads`, undefined, {
      'tus-resumable': '1.0.0',
      'upload-length': '5',
      'upload-metadata': `filename ${Buffer.from('a.txt').toString('base64')}`,
    });
    expect(tus.status).toBe(401);
    expect((await sender.client.get(`/api/v1/exchange/requests/${created.body.id}`)).body.files).toEqual([]);
    const verified = await verifiedGuest(token, 'open@citizen.example.jp');
    expect((await verified.req('GET', url)).body).toMatchObject({ verified: true, title: '公開リンク' });
  });

  it("a resumable upload whose link is revoked while the last chunk is in transit still reaches the requester's inbox [LG-03, HR-05]", async () => {
    const created = await sender.client.post('/api/v1/exchange/requests', {
      title: '途中で取り消し',
      recipientEmail: 'late@citizen.example.jp',
      expiresInDays: 3,
      maxBytes: 1000,
      lang: 'ja',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const token = tokenOf(created.body.link);
    const guest = await verifiedGuest(token, 'late@citizen.example.jp');
    const data = Buffer.alloc(100, 0x42);
    const tus = { 'tus-resumable': '1.0.0' };
    const post = await guest.req('POST', `/api/v1/ext/requests/${token}/uploads`, undefined, {
      ...tus,
      'upload-length': String(data.length),
      'upload-metadata': `filename ${Buffer.from('late.txt').toString('base64')}`,
    });
    expect(post.status, JSON.stringify(post.body)).toBe(201);
    // The body is read only once the link was checked for this PATCH; the staff member revokes before it arrives.
    let revoked = 0;
    const body = Readable.from(
      (async function* () {
        revoked = (await sender.client.post(`/api/v1/exchange/requests/${created.body.id}/revoke`)).status;
        yield data;
      })(),
    );
    const done = await guest.req(
      'PATCH',
      String(post.headers.location),
      undefined,
      { ...tus, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' },
      body,
    );
    expect(revoked).toBe(204);
    expect(done.status, JSON.stringify(done.body)).toBe(204);
    expect(done.headers['kura-sha256']).toMatch(/^[0-9a-f]{64}$/);
    // Recorded for the request: in the inbox, told to the staff member, deleted with the request (HR-05).
    const inbox = await sender.client.get('/api/v1/exchange/inbox');
    const item = inbox.body.items.find((i: { requestId: string }) => i.requestId === created.body.id);
    expect(item).toMatchObject({ name: 'late.txt', size: 100, sha256: done.headers['kura-sha256'] });
    expect((await events(t.id, 'exchange.file_received')).some((e) => e.target_id === item.fileId)).toBe(true);
    const req = await k.services.database.db
      .selectFrom('exchange_requests')
      .select(['state', 'delete_at'])
      .where('id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    expect(req).toMatchObject({ state: 'revoked', delete_at: expect.any(String) });
    // The link itself is dead.
    expect((await guest.req('GET', `/api/v1/ext/requests/${token}`)).status).toBe(404);
  });

  it("the approver's view of a file waiting for approval obeys the download switch of their zone [AC-06, LG-03]", async () => {
    const input = shareInput([file], ['hanako@partner.example.jp']);
    const preview = await sender.client.post('/api/v1/exchange/shares/preview', input);
    expect(preview.body.approvers.map((a: { id: string }) => a.id)).toEqual([boss.id]);
    const created = await sender.client.post('/api/v1/exchange/shares', { ...input, confirmedDomains: preview.body.domains });
    expect(created.body.state).toBe('pending');
    pendingId = created.body.id;
    const url = `/api/v1/exchange/approvals/${pendingId}/files/${file}/content`;
    expect((await boss.client.send('GET', url, '')).status).toBe(200);
    const saved = await changePolicy(t.id, (p) => ({
      ...p,
      features: { ...p.features, lgwan: { ...p.features.lgwan, downloads: false } },
    }));
    const before = (await events(t.id, 'exchange.approver_viewed')).length;
    const off = await boss.client.send('GET', url, '');
    expect(off.status).toBe(403);
    expect(off.body.error.code).toBe('tenant.feature_disabled');
    expect(off.raw.includes(content)).toBe(false);
    expect((await events(t.id, 'exchange.approver_viewed')).length).toBe(before);
    await k.services.tenantPolicy.update(systemActor(t.id), saved);
    const on = await boss.client.send('GET', url, '');
    expect(on.status).toBe(200);
    expect(on.raw.equals(content)).toBe(true);
  });

  it('an approver who may not decide gets 404, not the policy reason, and leaves no refusal event [TLS-03, LG-03, AC-05]', async () => {
    await changePolicy(t.id, (p) => ({ ...p, exchange: { ...p.exchange, denyDomains: ['partner.example.jp'] } }));
    const url = `/api/v1/exchange/approvals/${pendingId}`;
    // A tenant admin may decide shares only as a named approver; the tenant-wide fallback is the approver role.
    const other = await tenantAdmin.client.post(url, { decision: 'approve' });
    expect(other.status).toBe(404);
    expect(other.body.error.code).toBe('share.not_found');
    const blocked = () => events(t.id, 'exchange.share_blocked');
    expect((await blocked()).filter((e) => e.actor_id === tenantAdmin.id)).toEqual([]);
    // The approver who may decide is told why, and the refusal is recorded.
    const eligible = await boss.client.post(url, { decision: 'approve' });
    expect(eligible.body.error.code).toBe('share.domain_denied');
    expect((await blocked()).filter((e) => e.actor_id === boss.id)).toHaveLength(1);
    // Past the approval deadline the answer is that the share no longer waits, whatever the rules say.
    await k.services.database.db
      .updateTable('exchange_shares')
      .set({ approval_expires_at: new Date(clock.now().getTime() - 1000).toISOString() })
      .where('id', '=', pendingId)
      .execute();
    const late = await boss.client.post(url, { decision: 'approve' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('share.not_pending');
    expect((await blocked()).filter((e) => e.actor_id === boss.id)).toHaveLength(1);
  });

  it('concurrent first downloads are counted exactly against the limit, never a 500 [TLS-03]', async () => {
    const saved = await changePolicy(t.id, (p) => ({
      ...p,
      exchange: { ...p.exchange, approval: { ...p.exchange.approval, required: 'never' } },
    }));
    const input = shareInput([file], ['para@partner.example.jp']);
    const created = await sender.client.post('/api/v1/exchange/shares', { ...input, confirmedDomains: ['partner.example.jp'] });
    expect(created.body.state, JSON.stringify(created.body)).toBe('active');
    await k.services.tenantPolicy.update(systemActor(t.id), saved);
    const mail = (await outbox(t.id, 'exchange.share_link')).find((l) => l.to_address === 'para@partner.example.jp')!;
    const token = /\/x\/s\/([A-Za-z0-9_-]{43})/.exec(mail.body)![1]!;
    const guest = new Outsider(internet);
    await guest.req('POST', `/api/v1/ext/shares/${token}/code`);
    const code = await latestCode(t.id, 'para@partner.example.jp');
    expect((await guest.req('POST', `/api/v1/ext/shares/${token}/verify`, { code })).status).toBe(204);
    const url = `/api/v1/ext/shares/${token}/files/${file}/content`;
    const replies = await Promise.all(Array.from({ length: 4 }, () => guest.req('GET', url)));
    // maxDownloads 2: two whole downloads, the others the same 404 as a spent link.
    expect(replies.map((r) => r.status).sort()).toEqual([200, 200, 404, 404]);
    for (const r of replies.filter((x) => x.status === 200)) expect(r.raw.equals(content)).toBe(true);
    const repo = new ExchangeRepository(k.services.database.db);
    const [recipient] = await repo.recipients(t.id, [created.body.id]);
    expect(recipient).toMatchObject({ downloads: 2 });

    // The reservation itself, with transactions that overlap on purpose (each holds its row a while).
    const at = clock.now().toISOString();
    const reserve = (fileId: string, limit: number) =>
      k.services.database.transaction(async (trx) => {
        const ok = await repo.reserveDownload(trx, { tenantId: t.id, recipientId: recipient!.id, fileId }, 100, limit, true, at);
        await sleep(150);
        return ok;
      });
    const both = randomUUID();
    expect(await Promise.all([reserve(both, 200), reserve(both, 200)])).toEqual([true, true]);
    const oneOnly = randomUUID();
    expect((await Promise.all([reserve(oneOnly, 150), reserve(oneOnly, 150)])).sort()).toEqual([false, true]);
    const rows = await repo.downloads(t.id, recipient!.id);
    const row = (id: string) => rows.find((r) => r.file_id === id);
    expect({ count: row(both)?.count, bytes: Number(row(both)?.bytes) }).toEqual({ count: 2, bytes: 200 });
    expect({ count: row(oneOnly)?.count, bytes: Number(row(oneOnly)?.bytes) }).toEqual({ count: 1, bytes: 100 });
    // More than the whole allowance is refused before anything is stored.
    const tooBig = randomUUID();
    expect(await reserve(tooBig, 99)).toBe(false);
    expect((await repo.downloads(t.id, recipient!.id)).some((r) => r.file_id === tooBig)).toBe(false);
  });

  it('a group approver demoted to staff no longer decides, is not asked and cannot read pending shares [AC-05, LG-03]', async () => {
    const named = await m.member(t, 'approver');
    const group = await tenantAdmin.client.post('/api/v1/admin/groups', { name: '税務課', memberIds: [sender.id] });
    expect(group.status, JSON.stringify(group.body)).toBe(201);
    expect(
      (await tenantAdmin.client.req('PUT', `/api/v1/exchange/approvers/${group.body.id}`, { approvers: [{ userId: named.id }] }))
        .status,
    ).toBe(204);
    const input = shareInput([file], ['jiro@partner.example.jp']);
    const preview = await sender.client.post('/api/v1/exchange/shares/preview', input);
    expect(preview.body.approvers.map((a: { id: string }) => a.id)).toEqual([named.id]);
    const created = await sender.client.post('/api/v1/exchange/shares', { ...input, confirmedDomains: preview.body.domains });
    expect(created.body.state).toBe('pending');
    expect((await named.client.get(`/api/v1/exchange/shares/${created.body.id}`)).status).toBe(200);

    await k.services.database.db.updateTable('users').set({ role: 'staff' }).where('id', '=', named.id).execute();
    // Not asked any more: the tenant-wide approver is, as when the group has none.
    const again = await sender.client.post('/api/v1/exchange/shares/preview', input);
    expect(again.body.approvers.map((a: { id: string }) => a.id)).toEqual([boss.id]);
    const view = await named.client.get(`/api/v1/exchange/shares/${created.body.id}`);
    expect(view.status).toBe(404);
    expect(view.body.error.code).toBe('share.not_found');
    expect((await boss.client.get('/api/v1/exchange/approvals')).body.items.map((s: { id: string }) => s.id)).toContain(
      created.body.id,
    );
  });
});

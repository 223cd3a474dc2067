/**
 * File exchange with outside parties over HTTP on both engines, with the real clamd: upload request
 * links (internet zone) into the staff member's inbox (LGWAN, sanitised); shares with the
 * confirmation step, 上長承認, one-time codes, download limits and notifications; label, domain and
 * feature-switch rules; the same 404 for every unusable link; tenant isolation; HR-05 deletion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { systemActor, type TenantId } from '../../src/core/types.js';
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
  async req(method: string, url: string, body?: unknown, headers: Record<string, string> = {}, raw?: Buffer) {
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

async function uploadFile(c: Client, name: string, content: Buffer) {
  const { payload, contentType } = multipartBody(name, content, 'text/plain');
  const r = await c.send('POST', `/api/v1/folders/${folderId}/files`, payload, { 'content-type': contentType });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  await runJobs();
  return r.body.id as string;
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
    expect(malformed.status).toBe(400);
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
});

/**
 * Classification labels and the personal-data check over HTTP on both engines (PII-01, PII-02):
 * inheritance from folders, validation against the tenant's labels, roles and tenants, audit
 * events, and My Number / tenant pattern detection in uploaded docx, xlsx and csv files through the
 * real scan gate (clamd), with the tenant's suggest and enforce policies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { systemActor } from '../../src/core/types.js';
import { buildServer, type App } from '../../src/http/server.js';
import { Worker } from '../../src/jobs/worker.js';
import { myNumberCheckDigit } from '../../src/pii/my-number.js';
import type { Client } from '../support/http-client.js';
import { createTestKura, type TestKura } from '../support/kura.js';
import { Members, multipartBody, type Member, type TestTenant } from '../support/members.js';
import { zipOf } from '../support/office-fixtures.js';

const clock = new ManualClock(new Date('2026-11-27T01:00:00.000Z'));
const MY = '123456789018'; // the well-known valid sample number
const valid = (first11: string) => `${first11}${myNumberCheckDigit(first11)}`;
let k: TestKura;
let app: App;
let m: Members;
let tenant: TestTenant;
let owner: Member;
let viewer: Member;
let editor: Member;
let outsider: Member;
let topId: string;
let subId: string;

beforeAll(async () => {
  if (!process.env.KURA_TEST_CLAMD && process.env.CI)
    throw new Error('KURA_TEST_CLAMD is not set: the scan gate needs the test clamd');
  k = await createTestKura({ clock });
  app = await buildServer(k.services, { zone: 'lgwan', webUi: false });
  await app.ready();
  m = new Members(k, app, clock);
  tenant = await m.tenant();
  owner = await m.member(tenant);
  viewer = await m.member(tenant);
  editor = await m.member(tenant);
  outsider = await m.member(await m.tenant());
  topId = (await owner.client.post('/api/v1/folders', { parentId: null, name: '福祉課' })).body.id;
  subId = (await owner.client.post('/api/v1/folders', { parentId: topId, name: '申請書' })).body.id;
  for (const [who, role] of [
    [viewer, 'viewer'],
    [editor, 'editor'],
  ] as const) {
    const g = await owner.client.post(`/api/v1/folders/${topId}/permissions`, { subjectType: 'user', subjectId: who.id, role });
    expect(g.status, JSON.stringify(g.body)).toBe(200);
  }
}, 60_000);
afterAll(async () => {
  await app?.close();
  await k?.close();
});

const scanner = process.env.KURA_TEST_CLAMD ? describe : describe.skip;

async function runJobs(): Promise<void> {
  const w = new Worker(k.services.jobs, { id: 'test', handlers: k.services.jobHandlers });
  while (await w.runOnce());
}

interface FileBody {
  id: string;
  labels: { level: string; flags: string[]; own: string[]; inherited: string[] };
  pii: { state: string | null; hits: Array<{ kind: string; count: number }> };
  latest: { state: string; detectedType?: string | null };
}

/** Uploads through the simple upload route, runs the scan and PII jobs, and returns the file as its owner sees it. */
async function uploaded(c: Client, name: string, content: Buffer | string, folder = subId): Promise<FileBody> {
  const { payload, contentType } = multipartBody(name, Buffer.isBuffer(content) ? content : Buffer.from(content));
  const r = await c.send('POST', `/api/v1/folders/${folder}/files`, payload, { 'content-type': contentType });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  await runJobs();
  const f = await c.get(`/api/v1/files/${r.body.id}`);
  expect(f.status).toBe(200);
  return f.body as FileBody;
}

/** A minimal Word document with one paragraph per line. */
function docx(lines: string[]): Promise<Buffer> {
  const W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"';
  return zipOf({
    '[Content_Types].xml':
      '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
    '_rels/.rels':
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>',
    'word/document.xml': `<?xml version="1.0" encoding="UTF-8"?><w:document ${W}><w:body>${lines
      .map((l) => `<w:p><w:r><w:t xml:space="preserve">${l}</w:t></w:r></w:p>`)
      .join('')}</w:body></w:document>`,
  });
}

async function events(action: string, t: TestTenant = tenant) {
  return (await k.services.auditRepository.latestEvents(t.id, 500)).filter((e) => e.action === action);
}

async function withLabelPolicy<T>(patch: Record<string, unknown>, fn: () => Promise<T>): Promise<T> {
  const s = await k.services.tenantPolicy.get(tenant.id);
  await k.services.tenantPolicy.update(systemActor(tenant.id), { ...s, labels: { ...s.labels, ...patch } });
  try {
    return await fn();
  } finally {
    await k.services.tenantPolicy.update(systemActor(tenant.id), s);
  }
}

describe('classification labels on ' + (process.env.KURA_TEST_DB ?? 'sqlite'), () => {
  it('gives every signed-in user the tenant label configuration [PII-01]', async () => {
    const r = await viewer.client.get('/api/v1/labels');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      levels: ['機密性1', '機密性2', '機密性3'],
      defaultLevel: '機密性2',
      flags: ['個人情報', '要配慮個人情報', '特定個人情報'],
      myNumberLabel: '特定個人情報',
      patterns: [],
    });
    // Pattern names and labels are shown to staff; the expressions stay with the administrators.
    await withLabelPolicy({ patterns: [{ name: '職員番号', regex: 'S-\\d{6}', label: '個人情報' }] }, async () => {
      const withPattern = await viewer.client.get('/api/v1/labels');
      expect(withPattern.body.patterns).toEqual([{ name: '職員番号', label: '個人情報' }]);
      expect(JSON.stringify(withPattern.body)).not.toContain('S-');
    });
  });

  it('inherits the nearest level and every flag from the folders above; own labels come first [PII-01]', async () => {
    const top = await owner.client.req('PUT', `/api/v1/folders/${topId}/labels`, { labels: ['機密性3', '個人情報'] });
    expect([top.status, top.body]).toEqual([200, { labels: ['機密性3', '個人情報'] }]);
    const sub = await owner.client.req('PUT', `/api/v1/folders/${subId}/labels`, { labels: ['要配慮個人情報'] });
    expect(sub.status).toBe(200);
    const f = await uploaded(owner.client, '議事録.txt', '本日の議題');
    expect(f.labels).toEqual({
      level: '機密性3',
      flags: ['要配慮個人情報', '個人情報'],
      own: [],
      inherited: ['要配慮個人情報', '機密性3', '個人情報'],
    });
    // The file's own level overrides the folders'; flags still add up.
    const set = await editor.client.req('PUT', `/api/v1/files/${f.id}/labels`, { labels: ['特定個人情報', '機密性1'] });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toEqual({
      level: '機密性1',
      flags: ['特定個人情報', '要配慮個人情報', '個人情報'],
      own: ['機密性1', '特定個人情報'],
      inherited: ['要配慮個人情報', '機密性3', '個人情報'],
    });
    // Listings carry the same labels, and folders their own.
    const listing = await owner.client.get(`/api/v1/folders/${subId}`);
    expect(listing.body.folder.labels).toEqual(['要配慮個人情報']);
    expect(listing.body.files.find((x: FileBody) => x.id === f.id).labels.level).toBe('機密性1');
    const parent = await owner.client.get(`/api/v1/folders/${topId}`);
    expect(parent.body.folders.find((x: { id: string }) => x.id === subId).labels).toEqual(['要配慮個人情報']);
    // The exchange's view is the same.
    const eff = await k.services.labels.effective(tenant.id, [f.id, '00000000-0000-4000-8000-000000000000']);
    expect(eff.get(f.id)).toEqual(set.body);
    expect(eff.size).toBe(1);
    // Without labels anywhere a file has the tenant's default level.
    const other = (await owner.client.post('/api/v1/folders', { parentId: null, name: '雑務' })).body.id;
    const bare = await uploaded(owner.client, 'メモ.txt', 'memo', other);
    expect(bare.labels).toEqual({ level: '機密性2', flags: [], own: [], inherited: [] });
    // Clearing the folder's labels reaches the files below at once.
    await owner.client.req('PUT', `/api/v1/folders/${topId}/labels`, { labels: [] });
    const after = await owner.client.get(`/api/v1/files/${f.id}`);
    expect(after.body.labels).toMatchObject({ level: '機密性1', inherited: ['要配慮個人情報'] });
  });

  it('a copy keeps every label the original carries, its folders’ included [PII-01]', async () => {
    const secret = (await owner.client.post('/api/v1/folders', { parentId: null, name: '人事' })).body.id;
    await owner.client.req('PUT', `/api/v1/folders/${secret}/labels`, { labels: ['機密性3', '特定個人情報'] });
    const plain = (await owner.client.post('/api/v1/folders', { parentId: null, name: '作業用' })).body.id;
    const f = await uploaded(owner.client, '人事評価.txt', '評価', secret);
    const copy = await owner.client.post(`/api/v1/files/${f.id}/copy`, { folderId: plain });
    expect(copy.status, JSON.stringify(copy.body)).toBe(201);
    const copied = (await owner.client.get(`/api/v1/files/${copy.body.id}`)).body as FileBody;
    expect(copied.labels).toMatchObject({ level: '機密性3', own: ['機密性3', '特定個人情報'], inherited: [] });
    // A file with only the tenant's default level leaves the level to its new folder.
    const memo = await uploaded(owner.client, 'メモ2.txt', 'memo', plain);
    const memoCopy = await owner.client.post(`/api/v1/files/${memo.id}/copy`, { folderId: secret, onConflict: 'keep_both' });
    expect(((await owner.client.get(`/api/v1/files/${memoCopy.body.id}`)).body as FileBody).labels).toMatchObject({
      level: '機密性3',
      own: [],
    });
  });

  it('refuses more than one level and labels the tenant does not have [PII-01]', async () => {
    const f = await uploaded(owner.client, '一覧.txt', 'list');
    for (const labels of [['機密性1', '機密性3'], ['社外秘'], ['個人情報', '']]) {
      const r = await owner.client.req('PUT', `/api/v1/files/${f.id}/labels`, { labels });
      expect([r.status, r.body.error?.code], JSON.stringify(labels)).toEqual([
        400,
        labels.includes('') ? 'request.invalid' : 'label.invalid',
      ]);
    }
    const folder = await owner.client.req('PUT', `/api/v1/folders/${subId}/labels`, { labels: ['機密性1', '機密性2'] });
    expect([folder.status, folder.body.error?.code]).toEqual([400, 'label.invalid']);
    // A tenant's own labels are accepted there and nowhere else.
    await withLabelPolicy({ levels: ['公開', '庁内限り', '極秘'], defaultLevel: '庁内限り', flags: ['人事'] }, async () => {
      const ok = await owner.client.req('PUT', `/api/v1/files/${f.id}/labels`, { labels: ['人事', '極秘'] });
      // The folder's 要配慮個人情報 is no longer configured, yet still carried: a classification is never dropped silently.
      expect([ok.status, ok.body.level, ok.body.flags]).toEqual([200, '極秘', ['人事', '要配慮個人情報']]);
      const old = await owner.client.req('PUT', `/api/v1/files/${f.id}/labels`, { labels: ['機密性3'] });
      expect([old.status, old.body.error?.code]).toEqual([400, 'label.invalid']);
    });
    // Another tenant learns nothing, not even whether its labels would be valid here.
    const r = await outsider.client.req('PUT', `/api/v1/files/${f.id}/labels`, { labels: ['人事'] });
    expect([r.status, r.body.error?.code]).toEqual([404, 'file.not_found']);
  });

  it('hides other tenants’ files and folders (404) and needs editor for files, manager for folders [PII-01, AC-05, AC-08]', async () => {
    const f = await uploaded(owner.client, '名簿.txt', 'names');
    const foreignFile = await outsider.client.req('PUT', `/api/v1/files/${f.id}/labels`, { labels: ['機密性3'] });
    expect([foreignFile.status, foreignFile.body.error?.code]).toEqual([404, 'file.not_found']);
    const foreignFolder = await outsider.client.req('PUT', `/api/v1/folders/${subId}/labels`, { labels: ['機密性3'] });
    expect([foreignFolder.status, foreignFolder.body.error?.code]).toEqual([404, 'folder.not_found']);
    const byViewer = await viewer.client.req('PUT', `/api/v1/files/${f.id}/labels`, { labels: ['機密性1'] });
    expect([byViewer.status, byViewer.body.error?.code]).toEqual([403, 'folder.forbidden']);
    const folderByEditor = await editor.client.req('PUT', `/api/v1/folders/${subId}/labels`, { labels: ['機密性1'] });
    expect([folderByEditor.status, folderByEditor.body.error?.code]).toEqual([403, 'folder.forbidden']);
    // Nothing changed.
    const now = await owner.client.get(`/api/v1/files/${f.id}`);
    expect(now.body.labels.own).toEqual([]);
    expect((await owner.client.get(`/api/v1/folders/${subId}`)).body.folder.labels).toEqual(['要配慮個人情報']);
  });

  it('audits every label change with before and after, and no event when nothing changes [PII-01, LOG-01]', async () => {
    const f = await uploaded(owner.client, '報告.txt', 'report');
    const before = (await events('file.labels_changed')).length;
    await editor.client.req('PUT', `/api/v1/files/${f.id}/labels`, { labels: ['個人情報'] });
    await editor.client.req('PUT', `/api/v1/files/${f.id}/labels`, { labels: ['個人情報'] });
    await editor.client.req('PUT', `/api/v1/files/${f.id}/labels`, { labels: ['機密性3', '個人情報'] });
    const changes = (await events('file.labels_changed')).filter((e) => e.target_id === f.id);
    expect(changes.length).toBe(2);
    expect((await events('file.labels_changed')).length).toBe(before + 2);
    expect(changes[0]).toMatchObject({ actor_id: editor.id, actor_type: 'user', target_type: 'file' });
    expect(JSON.parse(changes[0]!.details)).toMatchObject({ before: ['個人情報'], after: ['機密性3', '個人情報'] });
    expect(JSON.parse(changes[1]!.details)).toMatchObject({ before: [], after: ['個人情報'] });
    await owner.client.req('PUT', `/api/v1/folders/${subId}/labels`, { labels: ['特定個人情報'] });
    const [folderEvent] = await events('folder.labels_changed');
    expect(folderEvent).toMatchObject({ actor_id: owner.id, target_type: 'folder', target_id: subId });
    expect(JSON.parse(folderEvent!.details)).toMatchObject({ before: ['要配慮個人情報'], after: ['特定個人情報'] });
    await owner.client.req('PUT', `/api/v1/folders/${subId}/labels`, { labels: ['要配慮個人情報'] });
  });
});

scanner('personal-data detection on ' + (process.env.KURA_TEST_DB ?? 'sqlite'), () => {
  it('finds My Number in a docx and suggests 特定個人情報 to the uploader, without the number anywhere [PII-02]', async () => {
    const f = await uploaded(
      editor.client,
      '申請書.docx',
      await docx(['氏名 山田太郎', `個人番号 ${MY.slice(0, 4)}-${MY.slice(4, 8)}-${MY.slice(8)}`]),
    );
    expect(f.latest.state).toBe('available');
    expect(f.pii).toEqual({ state: 'hit', hits: [{ kind: 'my_number', count: 1 }] });
    // Suggested, not set.
    expect(f.labels.own).toEqual([]);
    const notices = (await k.services.notifications.list(tenant.id, editor.id)).filter((n) => n.kind === 'pii.suggested');
    expect(notices.map((n) => JSON.parse(n.params))).toEqual([
      { fileId: f.id, name: '申請書.docx', label: '特定個人情報', kinds: ['my_number'] },
    ]);
    expect((await k.services.notifications.list(tenant.id, owner.id)).some((n) => n.kind === 'pii.suggested')).toBe(false);
    const [hit] = (await events('file.pii_detected')).filter((e) => e.target_id === f.id);
    expect(JSON.parse(hit!.details)).toMatchObject({ hits: [{ kind: 'my_number', count: 1 }], policy: 'suggest' });
    const everything = JSON.stringify(await k.services.auditRepository.latestEvents(tenant.id, 50));
    expect(everything).not.toContain(MY.slice(4));
    // The uploader takes the suggestion in one step.
    const take = await editor.client.req('PUT', `/api/v1/files/${f.id}/labels`, { labels: ['特定個人情報'] });
    expect(take.body.flags).toContain('特定個人情報');
  });

  it('finds My Number in CSV and xlsx, and counts each one [PII-02]', async () => {
    const csv = await uploaded(editor.client, '名簿.csv', `氏名,番号\n佐藤,${MY}\n鈴木,${valid('98765432109')}\n`);
    expect(csv.pii).toEqual({ state: 'hit', hits: [{ kind: 'my_number', count: 2 }] });
    const xlsx = await zipOf({
      '[Content_Types].xml':
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
      'xl/workbook.xml': '<workbook/>',
      'xl/sharedStrings.xml': '<sst><si><t>番号</t></si></sst>',
      'xl/worksheets/sheet1.xml': `<worksheet><sheetData><row><c t="s"><v>0</v></c><c><v>${MY}</v></c></row></sheetData></worksheet>`,
    });
    const sheet = await uploaded(editor.client, '台帳.xlsx', xlsx);
    expect(sheet.latest.state).toBe('available');
    expect(sheet.pii.state).toBe('hit');
  });

  it('finds nothing in a wrong check digit or a valid number inside a longer run of digits [PII-02]', async () => {
    const f = await uploaded(
      editor.client,
      '電話帳.csv',
      [
        `誤り,${MY.slice(0, 11)}${(Number(MY[11]) + 1) % 10}`,
        `口座,9${MY}`,
        `カード,${MY}0`,
        `区切り,1-${MY.slice(0, 4)}-${MY.slice(4, 8)}-${MY.slice(8)}`,
      ].join('\n'),
    );
    expect(f.pii).toEqual({ state: 'clear', hits: [] });
    expect((await events('file.pii_detected')).some((e) => e.target_id === f.id)).toBe(false);
  });

  it('sets the label itself when the tenant enforces, and audits it as a PII change [PII-02]', async () => {
    await withLabelPolicy({ myNumber: 'enforce' }, async () => {
      const f = await uploaded(editor.client, '届出.docx', await docx([`マイナンバー：${MY}`]));
      expect(f.pii.state).toBe('hit');
      expect(f.labels.own).toEqual(['特定個人情報']);
      expect(f.labels.flags).toContain('特定個人情報');
      const [change] = (await events('file.labels_changed')).filter((e) => e.target_id === f.id);
      expect(change).toMatchObject({ actor_type: 'system' });
      expect(JSON.parse(change!.details)).toMatchObject({ before: [], after: ['特定個人情報'], reason: 'pii' });
      const notices = await k.services.notifications.list(tenant.id, editor.id);
      expect(notices.some((n) => n.kind === 'pii.suggested' && JSON.parse(n.params).fileId === f.id)).toBe(false);
    });
  });

  it('applies tenant patterns (full-width digits too) with their own label, suggested or set [PII-02]', async () => {
    const patterns = [
      { name: '住民票コード', regex: '住民票コード[:： ]*\\d{11}', label: '個人情報' },
      { name: '健康保険', regex: '被保険者番号\\s*\\d{8}', label: '要配慮個人情報' },
    ];
    await withLabelPolicy({ patterns }, async () => {
      const f = await uploaded(
        editor.client,
        '住民票.txt',
        '住民票コード：１２３４５６７８９０１\n住民票コード 98765432101\n',
        topId,
      );
      expect(f.pii).toEqual({ state: 'hit', hits: [{ kind: 'pattern:住民票コード', count: 2 }] });
      const notices = (await k.services.notifications.list(tenant.id, editor.id)).filter(
        (n) => n.kind === 'pii.suggested' && JSON.parse(n.params).fileId === f.id,
      );
      expect(notices.map((n) => JSON.parse(n.params))).toMatchObject([{ label: '個人情報', kinds: ['pattern:住民票コード'] }]);
    });
    await withLabelPolicy({ patterns, myNumber: 'enforce' }, async () => {
      const f = await uploaded(editor.client, '保険.txt', `被保険者番号 12345678 / ${MY}`, topId);
      expect(f.pii.hits).toEqual([
        { kind: 'my_number', count: 1 },
        { kind: 'pattern:健康保険', count: 1 },
      ]);
      expect(f.labels.own).toEqual(['特定個人情報', '要配慮個人情報']);
    });
  });

  it('reads UTF-16 text as Excel saves it (「Unicode テキスト」), with or without a byte-order mark [PII-02]', async () => {
    const text = `氏名\t番号\r\n佐藤\t${MY}\r\n`;
    const withBom = await uploaded(
      editor.client,
      '名簿_unicode.txt',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    );
    expect([withBom.latest.state, withBom.latest.detectedType]).toEqual(['available', null]); // not taken for MP3
    expect(withBom.pii).toEqual({ state: 'hit', hits: [{ kind: 'my_number', count: 1 }] });
    const bare = await uploaded(editor.client, '名簿_bare.csv', Buffer.from(text.replace(/\t/g, ','), 'utf16le'));
    expect(bare.pii).toEqual({ state: 'hit', hits: [{ kind: 'my_number', count: 1 }] });
  });

  it('marks a readable format it could not read unreadable, never clear, and audits it [PII-02]', async () => {
    const f = await uploaded(editor.client, '壊れた名簿.csv', Buffer.from([0x30, 0x2c, 0x80, 0xff, 0xfe, 0x81, 0x0a]));
    expect(f.pii).toEqual({ state: 'unreadable', hits: [] });
    const [ev] = (await events('file.pii_unreadable')).filter((e) => e.target_id === f.id);
    expect(ev).toMatchObject({ outcome: 'error', reason: 'pii.malformed' });
  });

  it('marks formats without extractable text unsupported and ignores labels it already carries [PII-02]', async () => {
    const png = Buffer.from(
      '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201ff3fd1e10000000049454e44ae426082',
      'hex',
    );
    const img = await uploaded(editor.client, '写真.png', png);
    expect(img.latest.state).toBe('available');
    expect(img.pii).toEqual({ state: 'unsupported', hits: [] });
    // A file below a folder that already carries 特定個人情報: a hit, but nothing to suggest.
    await owner.client.req('PUT', `/api/v1/folders/${subId}/labels`, { labels: ['特定個人情報'] });
    try {
      const f = await uploaded(editor.client, '一覧2.csv', `番号\n${MY}\n`);
      expect(f.pii.state).toBe('hit');
      const notices = await k.services.notifications.list(tenant.id, editor.id);
      expect(notices.some((n) => n.kind === 'pii.suggested' && JSON.parse(n.params).fileId === f.id)).toBe(false);
    } finally {
      await owner.client.req('PUT', `/api/v1/folders/${subId}/labels`, { labels: ['要配慮個人情報'] });
    }
  });
});

/**
 * The tenant's own audit log over HTTP on both engines (LOG-04, LOG-02, LOG-01): search with
 * filters and paging for admins, auditors and `audit:read` tokens; nobody else, and never another
 * tenant's events; CSV export (BOM, defused formulas) and the JSONL export of the whole chain that
 * verifies offline and fails when edited or cut; every export audited and behind a step-up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportSealInput } from '../../src/audit/chain.js';
import { verifyExport } from '../../src/audit/export-verify.js';
import { generateSigningKeyPem, loadSigningKey } from '../../src/crypto/signing.js';
import { ManualClock } from '../../src/core/clock.js';
import { systemActor } from '../../src/core/types.js';
import { buildServer, type App } from '../../src/http/server.js';
import type { Client } from '../support/http-client.js';
import { createTestKura, type TestKura } from '../support/kura.js';
import { Members, type Member, type TestTenant } from '../support/members.js';

/** A key that is not the service's: what a forger would sign with. */
const OTHER_KEY = loadSigningKey(generateSigningKeyPem().privateKeyPem);
const clock = new ManualClock(new Date('2026-11-27T01:00:00.000Z'));
let k: TestKura;
let app: App;
let m: Members;
let tenant: TestTenant;
let admin: Member;
let auditor: Member;
let staff: Member;
let foreignAdmin: Member;
let folderId: string;
/** A user agent made to run as a formula when the export is opened in a spreadsheet. */
const FORMULA_UA = '=HYPERLINK("http://evil.example","x")';

interface Item {
  seq: number;
  occurredAt: string;
  action: string;
  outcome: string;
  actor: { id: string | null; loginId: string | null };
  target: { id: string | null };
  details: Record<string, unknown>;
}

beforeAll(async () => {
  k = await createTestKura({ clock });
  app = await buildServer(k.services, { zone: 'lgwan', webUi: false });
  await app.ready();
  m = new Members(k, app, clock);
  tenant = await m.tenant();
  admin = await m.member(tenant, 'tenant_admin');
  auditor = await m.member(tenant, 'auditor');
  staff = await m.member(tenant);
  foreignAdmin = await m.member(await m.tenant(), 'tenant_admin');
  clock.advance(60_000);
  folderId = (await staff.client.post('/api/v1/folders', { parentId: null, name: '監査対象' })).body.id;
  await staff.client.post('/api/v1/folders', { parentId: null, name: '=SUM(A1:A9)' });
  // A wrong password for the staff member, from a client whose user agent is a formula.
  await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    headers: { 'user-agent': FORMULA_UA, 'content-type': 'application/json' },
    payload: { tenant: tenant.slug, login: staff.login, password: 'not-the-password-1' },
  });
}, 60_000);
afterAll(async () => {
  await app?.close();
  await k?.close();
});

const search = async (c: Client, query = '') => {
  const r = await c.get(`/api/v1/audit/events${query ? `?${query}` : ''}`);
  return { status: r.status, body: r.body as { items: Item[]; nextBefore: number | null; error?: { code: string } } };
};

describe('audit log search (LOG-04)', () => {
  it("lets admins and auditors page through their own tenant's events, newest first; nobody else [LOG-04] [AC-08]", async () => {
    const first = await search(admin.client, 'limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.items[0]!.seq).toBeGreaterThan(first.body.items[1]!.seq);
    expect(first.body.nextBefore).toBe(first.body.items[1]!.seq);
    const second = await search(admin.client, `limit=2&before=${first.body.nextBefore}`);
    expect(second.body.items.every((i) => i.seq < first.body.nextBefore!)).toBe(true);
    expect((await search(auditor.client)).status).toBe(200);
    expect((await search(staff.client)).body.error?.code).toBe('auth.forbidden');
    // Another tenant's admin sees nothing of this tenant, even asking for its folder by id.
    const foreign = await search(foreignAdmin.client, `target=${folderId}`);
    expect([foreign.status, foreign.body.items]).toEqual([200, []]);
    const theirs = await search(foreignAdmin.client, 'limit=200');
    expect(theirs.body.items.some((i) => [admin.id, auditor.id, staff.id].includes(i.actor.id ?? ''))).toBe(false);
  });

  it('filters by action prefix, outcome, actor (login or id), target and time; bad filters are 400 [LOG-04]', async () => {
    const folders = await search(admin.client, 'action=folder.');
    expect(folders.body.items.map((i) => i.action)).toEqual(['folder.created', 'folder.created']);
    expect(folders.body.items[0]!.actor).toMatchObject({ id: staff.id, loginId: staff.login });
    const failed = await search(admin.client, 'outcome=failure&action=auth.login');
    expect(failed.body.items.length).toBeGreaterThanOrEqual(1);
    expect(failed.body.items.every((i) => i.outcome === 'failure' && i.action.startsWith('auth.login'))).toBe(true);
    const byLogin = await search(admin.client, `actor=${encodeURIComponent(staff.login)}&limit=200`);
    const byId = await search(admin.client, `actor=${staff.id}&limit=200`);
    // Typed in full-width upper case, as a Japanese input method may: found as the stored login is.
    const wide = staff.login.toUpperCase().replace(/[A-Z0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    const byWide = await search(admin.client, `actor=${encodeURIComponent(wide)}&limit=200`);
    expect(byLogin.body.items.length).toBeGreaterThan(0);
    expect(byLogin.body.items.map((i) => i.seq)).toEqual(byId.body.items.map((i) => i.seq));
    expect(byWide.body.items.map((i) => i.seq)).toEqual(byId.body.items.map((i) => i.seq));
    expect(byLogin.body.items.every((i) => i.actor.id === staff.id)).toBe(true);
    const target = await search(admin.client, `target=${folderId}`);
    expect(target.body.items.map((i) => i.action)).toEqual(['folder.created']);
    expect(target.body.items[0]!.details).toMatchObject({ name: '監査対象' });
    // The members were created before the clock moved on; the folders after.
    const at = encodeURIComponent('2026-11-27T10:00:30+09:00'); // 01:00:30Z
    const before = await search(admin.client, `to=${at}&action=folder.`);
    const after = await search(admin.client, `from=${at}&action=folder.`);
    expect([before.body.items.length, after.body.items.length]).toEqual([0, 2]);
    // A wildcard is not one: `%` matches nothing.
    expect((await search(admin.client, 'action=%')).body.items).toEqual([]);
    for (const bad of ['from=yesterday', 'outcome=maybe', 'limit=1000', 'before=0']) {
      const r = await search(admin.client, bad);
      expect([r.status, r.body.error?.code], bad).toEqual([400, 'request.invalid']);
    }
  });

  it('serves an API token with audit:read, and refuses one without it or any token for exports [LOG-04] [AC-15]', async () => {
    const s = await k.services.tenantPolicy.get(tenant.id);
    await k.services.tenantPolicy.update(systemActor(tenant.id), {
      ...s,
      features: { ...s.features, lgwan: { ...s.features.lgwan, api_tokens: true } },
    });
    const token = async (scopes: string[]) => {
      const r = await auditor.client.post('/api/v1/me/tokens', { name: scopes.join('+'), scopes });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.token as string;
    };
    const bearer = (t: string, url: string) => app.inject({ url, headers: { authorization: `Bearer ${t}` } });
    const reader = await token(['audit:read']);
    const events = await bearer(reader, '/api/v1/audit/events?action=folder.');
    expect([events.statusCode, events.json().items.length]).toEqual([200, 2]);
    // A collector reads forward from the last seq it stored, oldest first, and loses nothing.
    const seen: number[] = [];
    for (let after = 0, guard = 0; guard < 100; guard++) {
      const page = (await bearer(reader, `/api/v1/audit/events?after=${after}&limit=7`)).json();
      seen.push(...page.items.map((i: Item) => i.seq));
      if (page.items.length === 0) break;
      after = page.nextAfter;
    }
    const head = await k.services.auditRepository.head(tenant.id);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
    expect(seen.length).toBeGreaterThanOrEqual(head!.seq - 1); // the token's own use may add one meanwhile
    expect((await bearer(reader, '/api/v1/audit/events?after=1&before=5')).statusCode).toBe(400);
    expect((await bearer(reader, '/api/v1/audit/export?format=csv')).json().error.code).toBe('auth.token_not_allowed');
    const other = await token(['me:read']);
    expect((await bearer(other, '/api/v1/audit/events')).json().error.code).toBe('auth.token_not_allowed');
  });
});

describe('audit log export (LOG-04, LOG-02)', () => {
  it('exports a filtered range as CSV for Excel: BOM, Japanese header, formulas defused; the export is audited [LOG-04] [LOG-01]', async () => {
    const r = await admin.client.send('GET', '/api/v1/audit/export?format=csv&action=folder.', '');
    const failures = await admin.client.send('GET', '/api/v1/audit/export?format=csv&action=auth.login_failed', '');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    expect(r.headers['content-disposition']).toMatch(/^attachment; filename="audit-.*\.csv"$/);
    expect(r.headers['cache-control']).toBe('no-store');
    const text = r.raw.toString('utf8');
    expect(text.startsWith('\ufeff連番,日時(UTC),日時(日本時間),')).toBe(true);
    // Each time in UTC and in Japan's time, nine hours on.
    const [, utc, jst] = /,(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z),(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),/.exec(text)!;
    expect(new Date(Date.parse(utc!) + 9 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ')).toBe(jst);
    const rows = text.slice(1).trim().split('\r\n');
    expect(rows).toHaveLength(3);
    expect(text).toContain('=SUM(A1:A9)'); // inside the details cell, which starts with {
    // The user agent a client chose arrives as text, never as a formula.
    const failed = failures.raw.toString('utf8');
    expect(failed).toContain(`,"'=HYPERLINK(""http://evil.example"",""x"")"`);
    expect(failed).not.toMatch(/(^|,)=HYPERLINK/m);
    const exported = (await search(admin.client, 'action=audit.exported')).body.items;
    expect(exported.map((e) => e.details)).toEqual([
      { format: 'csv', filter: { action: 'auth.login_failed' } },
      { format: 'csv', filter: { action: 'folder.' } },
    ]);
    expect(exported[0]!.actor.id).toBe(admin.id);
  });

  it('exports the whole chain as JSONL that verifies offline, and fails when an entry is edited, dropped or the file cut [LOG-02] [LOG-04]', async () => {
    await k.services.checkpoints.checkpointAll();
    const r = await auditor.client.send('GET', '/api/v1/audit/export?format=jsonl', '');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = r.raw.toString('utf8').trim().split('\n');
    const header = JSON.parse(lines[0]!);
    expect(header).toMatchObject({ type: 'kura-audit-export', version: 1, tenantId: tenant.id });
    const events = lines.filter((l) => l.includes('"type":"event"'));
    expect(events.length).toBe(header.head.seq);
    expect(lines.some((l) => l.includes('"type":"checkpoint"'))).toBe(true);
    // Its own export event is in it.
    expect(events.some((l) => l.includes('"action":"audit.exported"'))).toBe(true);
    const check = (ls: string[], keyIds: string[] = []) =>
      verifyExport(
        (async function* () {
          yield* ls;
        })(),
        keyIds,
      );
    const keyId = (await auditor.client.get('/api/v1/audit/signing-key')).body.keyId as string;
    expect(header.keyId).toBe(keyId);

    const good = await check(lines);
    expect(good, good.problems.join('; ')).toMatchObject({
      ok: true,
      events: header.head.seq,
      firstBadSeq: null,
      sealKeyId: keyId,
      trusted: null,
    });
    expect(good.checkpoints).toBeGreaterThanOrEqual(1);
    expect(await check(lines, [keyId])).toMatchObject({ ok: true, trusted: true });
    expect(await check(lines, ['0123456789abcdef'])).toMatchObject({ ok: false, trusted: false });

    const i = lines.findIndex((l) => l.includes(folderId));
    const seq = JSON.parse(lines[i]!).seq as number;
    const edited = [...lines];
    edited[i] = edited[i]!.replace('監査対象', '改ざん');
    expect(await check(edited)).toMatchObject({ ok: false, firstBadSeq: seq });
    const dropped = lines.filter((_, j) => j !== i);
    expect((await check(dropped)).ok).toBe(false);
    expect((await check(lines.slice(0, -1))).ok).toBe(false);
    expect((await check(['{"type":"something-else"}'])).ok).toBe(false);
    expect((await check([lines[0]!, '{not json'])).ok).toBe(false);
    // The seal covers the head: cutting the end and moving the head back does not pass...
    const cut = { ...header, head: { seq: header.head.seq - 1, entryHash: JSON.parse(events[events.length - 2]!).entry_hash } };
    expect(await check([JSON.stringify(cut), ...lines.slice(1, -1)])).toMatchObject({
      ok: false,
      problems: ['the export seal does not verify'],
    });
    // ...nor an entry added past the sealed head, however well it chains on.
    const lastEvent = JSON.parse(events[events.length - 1]!);
    const extra = { ...lastEvent, seq: lastEvent.seq + 1, prev_hash: lastEvent.entry_hash };
    expect((await check([...lines, JSON.stringify(extra)])).problems.join(' ')).toMatch(/past the sealed head/);
    // A public key that is not the one its id names, and a whole file sealed by another key.
    const swapped = {
      ...header,
      publicKeys: header.publicKeys.map((k: { keyId: string }) => ({ ...k, publicKey: OTHER_KEY.publicKeyPem })),
    };
    expect((await check([JSON.stringify(swapped), ...lines.slice(1)])).problems[0]).toMatch(/does not match its id/);
    const forged = {
      ...header,
      keyId: OTHER_KEY.keyId,
      publicKeys: [{ keyId: OTHER_KEY.keyId, publicKey: OTHER_KEY.publicKeyPem }],
    };
    const forgedSeal = OTHER_KEY.sign(
      exportSealInput({ tenantId: forged.tenantId, exportedAt: forged.exportedAt, head: forged.head, keyId: OTHER_KEY.keyId }),
    );
    const forgedLines = [
      JSON.stringify({ ...forged, seal: forgedSeal }),
      ...lines.slice(1).filter((l) => !l.includes('"type":"checkpoint"')),
    ];
    // Self-consistent, so it passes on its own, naming the key; with the tenant's key id it fails.
    expect(await check(forgedLines)).toMatchObject({ ok: true, sealKeyId: OTHER_KEY.keyId, trusted: null });
    expect(await check(forgedLines, [keyId])).toMatchObject({ ok: false, trusted: false });
    // Malformed records fail, never throw.
    for (const bad of [
      { ...header, publicKeys: [null] },
      { ...header, head: {} },
      { ...header, head: { seq: '3', entryHash: header.head.entryHash } },
    ])
      expect((await check([JSON.stringify(bad), ...lines.slice(1)])).ok).toBe(false);
    const firstCheckpoint = lines.find((l) => l.includes('"type":"checkpoint"'))!;
    expect((await check([lines[0]!, firstCheckpoint, ...lines.slice(1)])).problems[0]).toMatch(/appears twice/);
    // Nothing of another tenant is in it.
    expect(events.every((l) => JSON.parse(l).tenant_id === tenant.id)).toBe(true);
  });

  it('needs a recent step-up, and is for admins and auditors only [LOG-04] [AC-13]', async () => {
    expect((await staff.client.get('/api/v1/audit/export?format=csv')).body.error.code).toBe('auth.forbidden');
    expect((await staff.client.get('/api/v1/audit/export/ready')).body.error.code).toBe('auth.forbidden');
    expect((await admin.client.get('/api/v1/audit/export/ready')).status).toBe(204);
    clock.advance(11 * 60_000);
    expect((await admin.client.get('/api/v1/audit/export?format=csv')).body.error.code).toBe('auth.step_up_required');
    expect((await admin.client.get('/api/v1/audit/export/ready')).body.error.code).toBe('auth.step_up_required');
    expect((await admin.client.get('/api/v1/audit/export?format=xml')).status).toBe(400);
    // JSONL is the whole chain: a filter with it is refused rather than silently ignored.
    expect((await admin.client.get('/api/v1/audit/export?format=jsonl&action=file.')).status).toBe(400);
  });
});

/**
 * Periodic review of the audit log on both engines (LOG-05): the weekly job opens a review with a
 * summary of notable events (repeated sign-in failures from one source, administrative actions at
 * night, quarantines); it is overdue after a week; an auditor or admin signs it off with findings,
 * once; staff cannot; another tenant's reviews are not found.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outsideOfficeHours } from '../../src/audit/audit-review.service.js';
import { ManualClock } from '../../src/core/clock.js';
import { systemActor, type TenantId } from '../../src/core/types.js';
import { buildServer, type App } from '../../src/http/server.js';
import { createTestKura, type TestKura } from '../support/kura.js';
import { Members, type Member, type TestTenant } from '../support/members.js';

// A Monday, 10:00 in Japan.
const clock = new ManualClock(new Date('2026-11-23T01:00:00.000Z'));
let k: TestKura;
let app: App;
let m: Members;
let tenant: TestTenant;
let admin: Member;
let auditor: Member;
let staff: Member;
let foreignAuditor: Member;

beforeAll(async () => {
  k = await createTestKura({ clock });
  app = await buildServer(k.services, { zone: 'lgwan', webUi: false });
  await app.ready();
  m = new Members(k, app, clock);
  tenant = await m.tenant();
  admin = await m.member(tenant, 'tenant_admin');
  auditor = await m.member(tenant, 'auditor');
  staff = await m.member(tenant);
  foreignAuditor = await m.member(await m.tenant(), 'auditor');
}, 60_000);
afterAll(async () => {
  await app?.close();
  await k?.close();
});

/** After the clock jumps days ahead, sessions have ended: everyone signs in again. */
async function signInAgain(): Promise<void> {
  for (const who of [admin, auditor, staff, foreignAuditor]) who.client = await m.signIn(who);
}

const reviews = async (c: Member) => (await c.client.get('/api/v1/audit/reviews')).body.items as Array<Record<string, unknown>>;

describe('periodic audit-log review (LOG-05)', () => {
  it('tells office hours in Japan: weekday daytime is not notable; nights and weekends are', () => {
    expect(outsideOfficeHours('2026-11-23T01:00:00.000Z')).toBe(false); // Mon 10:00 JST
    expect(outsideOfficeHours('2026-11-23T14:30:00.000Z')).toBe(true); // Mon 23:30 JST
    expect(outsideOfficeHours('2026-11-21T03:00:00.000Z')).toBe(true); // Sat 12:00 JST
  });

  it('opens a weekly review with the notable events, overdue after a week; signed off once with findings [LOG-05] [LOG-01]', async () => {
    // Six wrong passwords from one address.
    for (let i = 0; i < 6; i++)
      await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '198.51.100.7',
        payload: { tenant: tenant.slug, login: staff.login, password: 'wrong-password-123' },
      });
    // An administrative change at 23:30 on a weekday in Japan.
    clock.set(new Date('2026-11-24T14:30:00.000Z'));
    const s = await k.services.tenantPolicy.get(tenant.id);
    await k.services.tenantPolicy.update(
      { ...systemActor(tenant.id), type: 'user', id: admin.id },
      { ...s, session: { ...s.session, stepUpMinutes: 9 } },
    );
    // Not yet a week: the job opens nothing.
    await k.services.auditReviews.openDue(tenant.id as TenantId, '2026-11-23T00:00:00.000Z');
    expect(await k.services.auditReviews.list(tenant.id as TenantId)).toEqual([]);
    clock.set(new Date('2026-11-30T02:00:00.000Z'));
    const opened = await k.services.auditReviews.openDue(tenant.id as TenantId, '2026-11-23T00:00:00.000Z');
    expect(opened).not.toBeNull();
    await signInAgain();
    const [review] = await reviews(auditor);
    expect(review).toMatchObject({ state: 'open', overdue: false, periodTo: '2026-11-30T02:00:00.000Z' });
    const summary = review!.summary as {
      events: number;
      byOutcome: Record<string, number>;
      notable: Array<{ kind: string; count: number; who?: string }>;
    };
    expect(summary.byOutcome.failure).toBeGreaterThanOrEqual(6);
    expect(summary.notable).toEqual(
      expect.arrayContaining([
        { kind: 'repeated_failures', count: 6, who: '198.51.100.7' },
        { kind: 'off_hours_admin', count: 1, who: expect.stringContaining(`（${admin.login}）`) },
      ]),
    );
    // The next day the job opens no second one.
    clock.advance(86_400_000);
    expect(await k.services.auditReviews.openDue(tenant.id as TenantId, '2026-11-23T00:00:00.000Z')).toBeNull();
    // Past its due date it shows as overdue.
    clock.advance(7 * 86_400_000);
    await signInAgain();
    expect((await reviews(admin))[0]).toMatchObject({ overdue: true });

    // Staff may not see or sign; another tenant's auditor does not find it.
    expect((await staff.client.get('/api/v1/audit/reviews')).body.error.code).toBe('auth.forbidden');
    const foreign = await foreignAuditor.client.post(`/api/v1/audit/reviews/${review!.id}/sign-off`, { findings: '他団体' });
    expect([foreign.status, foreign.body.error.code]).toEqual([404, 'audit.review_not_found']);
    expect((await auditor.client.post(`/api/v1/audit/reviews/${review!.id}/sign-off`, { findings: ' ' })).status).toBe(400);
    const signed = await auditor.client.post(`/api/v1/audit/reviews/${review!.id}/sign-off`, {
      findings: '198.51.100.7 からの失敗は職員のパスワード失念。夜間の設定変更は管理者に確認済み。',
    });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    expect(signed.body).toMatchObject({ state: 'signed_off', overdue: false, signedOffBy: auditor.id });
    const again = await admin.client.post(`/api/v1/audit/reviews/${review!.id}/sign-off`, { findings: '二重' });
    expect([again.status, again.body.error.code]).toEqual([409, 'audit.review_signed_off']);
    const events = (await k.services.auditRepository.latestEvents(tenant.id, 50)).map((e) => e.action);
    expect(events).toEqual(expect.arrayContaining(['audit.review_opened', 'audit.review_signed_off']));
  });

  it('lets an admin open a review now, covering the log since the last one [LOG-05]', async () => {
    const before = (await reviews(admin)).length;
    const r = await admin.client.post('/api/v1/audit/reviews');
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const items = await reviews(admin);
    expect(items).toHaveLength(before + 1);
    expect(items[0]!.periodFrom).toBe(items[1]!.periodTo);
    expect((await staff.client.post('/api/v1/audit/reviews')).status).toBe(403);
  });
});

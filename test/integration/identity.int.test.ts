import { Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithLink } from '../../src/app/bootstrap.js';
import { ManualClock } from '../../src/core/clock.js';
import { SYSTEM_TENANT_ID, systemActor, type TenantId } from '../../src/core/types.js';
import { totpCode } from '../../src/crypto/totp.js';
import { buildServer, type App } from '../../src/http/server.js';
import type { Role } from '../../src/tenants/tenant-settings.js';
import { Client } from '../support/http-client.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';
import { createTestKura, type TestKura } from '../support/kura.js';

const clock = new ManualClock(new Date('2026-11-26T01:00:00.000Z'));
let k: TestKura;
let lgwan: App;
let internet: App;
let n = 0;

beforeAll(async () => {
  k = await createTestKura({ clock });
  lgwan = await buildServer(k.services, { zone: 'lgwan', webUi: false });
  internet = await buildServer(k.services, { zone: 'internet', webUi: false });
  await Promise.all([lgwan.ready(), internet.ready()]);
});
afterAll(async () => {
  await lgwan?.close();
  await internet?.close();
  await k?.close();
});

const GOOD_PASSWORD = 'granite-violet-harbor';

interface Member {
  tenant: string;
  tenantId: TenantId;
  login: string;
  password: string;
  secret: Buffer | null;
  client: Client;
  id: string;
}

async function newTenant(settings?: Record<string, unknown>): Promise<{ slug: string; id: TenantId }> {
  const slug = `city-${++n}-${process.pid}`;
  const t = await k.services.tenants.create(systemActor(), { slug, displayName: `テスト市${n}` });
  if (settings) {
    const current = await k.services.tenantPolicy.get(t.id);
    await k.services.tenantPolicy.update(systemActor(t.id), { ...current, ...settings });
  }
  return { slug, id: t.id };
}

function tokenOf(url: string): string {
  return new URL(url).hash.replace('#token=', '');
}

/** Advances to the next TOTP step so a fresh code is accepted (each step is usable once). */
function nextStep(): void {
  clock.advance(30_000);
}

function code(secret: Buffer): string {
  return totpCode(secret, 'SHA256', clock.now().getTime());
}

/** A user set up through the real setup link, with TOTP enrolled when the policy needs it. */
async function member(tenant: { slug: string; id: TenantId }, role: Role = 'staff', login = `u${++n}`): Promise<Member> {
  const url = await createUserWithLink(k.services, tenant.id, { loginId: login, displayName: `職員 ${login}`, role }, 'test');
  const client = new Client(lgwan);
  const done = await client.post('/api/v1/auth/setup/complete', {
    token: tokenOf(url),
    password: GOOD_PASSWORD,
    confirmPassword: GOOD_PASSWORD,
  });
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  let secret: Buffer | null = null;
  if (done.body.next === 'mfa_enroll') {
    const enroll = await client.post('/api/v1/auth/mfa/totp/enroll');
    secret = Buffer.from(Secret.fromBase32(enroll.body.secret).buffer);
    const confirm = await client.post('/api/v1/auth/mfa/totp/confirm', { code: code(secret) });
    expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
    nextStep();
  }
  const me = await client.get('/api/v1/me');
  expect(me.status).toBe(200);
  return { tenant: tenant.slug, tenantId: tenant.id, login, password: GOOD_PASSWORD, secret, client, id: me.body.user.id };
}

async function signIn(m: Member, app: App = lgwan, remoteAddress = '127.0.0.1'): Promise<Client> {
  const c = new Client(app, remoteAddress);
  const r = await c.post('/api/v1/auth/login', { tenant: m.tenant, login: m.login, password: m.password });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  if (r.body.next === 'mfa') {
    const v = await c.post('/api/v1/auth/mfa/totp', { code: code(m.secret!) });
    expect(v.status, JSON.stringify(v.body)).toBe(200);
    nextStep();
  }
  return c;
}

async function lastEvent(tenantId: string) {
  return (await k.services.auditRepository.latestEvents(tenantId, 1))[0]!;
}

describe(`identity on ${process.env.KURA_TEST_DB ?? 'sqlite'}`, () => {
  it('sets up the first password through a one-time link, enrols TOTP and gets ten recovery codes [AC-09] [AC-16]', async () => {
    const t = await newTenant();
    const url = await createUserWithLink(
      k.services,
      t.id,
      { loginId: 'Admin.Sato', displayName: '佐藤 一郎', role: 'tenant_admin' },
      'test',
    );
    const c = new Client(lgwan);
    const info = await c.post('/api/v1/auth/setup/inspect', { token: tokenOf(url) });
    expect(info.body).toMatchObject({ loginId: 'admin.sato', mfaRequired: true, minLength: 8, maxLength: 128 });
    const weak = await c.post('/api/v1/auth/setup/complete', {
      token: tokenOf(url),
      password: 'sato-1234-pw',
      confirmPassword: 'sato-1234-pw',
    });
    expect([weak.status, weak.body.error.code, weak.body.error.reasons]).toEqual([400, 'password.rejected', ['context_word']]);
    const done = await c.post('/api/v1/auth/setup/complete', {
      token: tokenOf(url),
      password: GOOD_PASSWORD,
      confirmPassword: GOOD_PASSWORD,
    });
    expect(done.body.next).toBe('mfa_enroll');
    expect((await c.get('/api/v1/me')).body.error.code).toBe('auth.mfa_enrollment_required');
    const reloaded = new Client(lgwan);
    reloaded.cookie = c.cookie; // a page reloaded mid-sign-in finds its step and CSRF token again
    expect((await reloaded.get('/api/v1/auth/session')).body).toEqual({ stage: 'mfa_enroll', csrfToken: c.csrf });
    const enroll = await c.post('/api/v1/auth/mfa/totp/enroll');
    expect(enroll.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/.*algorithm=SHA256/);
    expect(enroll.body.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    const secret = Buffer.from(Secret.fromBase32(enroll.body.secret).buffer);
    expect((await c.post('/api/v1/auth/mfa/totp/confirm', { code: '000000' })).status).toBe(401);
    const confirm = await c.post('/api/v1/auth/mfa/totp/confirm', { code: code(secret) });
    expect(confirm.body.next).toBe('done');
    expect(new Set(confirm.body.recoveryCodes).size).toBe(10);
    const me = await c.get('/api/v1/me');
    expect(me.body).toMatchObject({
      user: { loginId: 'admin.sato', role: 'tenant_admin' },
      mfa: { totp: true, recoveryCodesLeft: 10 },
      lastLogin: null,
    });
    // The TOTP secret is stored wrapped with the tenant key, never in clear (ENC-02).
    const row = await k.services.database.db
      .selectFrom('mfa_totp')
      .selectAll()
      .where('user_id', '=', me.body.user.id)
      .executeTakeFirstOrThrow();
    expect(Buffer.from(row.secret_wrapped).includes(secret)).toBe(false);
  });

  it('answers 410 for a used, expired or unknown setup link [AC-16]', async () => {
    const t = await newTenant();
    const url = await createUserWithLink(k.services, t.id, { loginId: 'once', displayName: 'x', role: 'staff' }, 'test');
    const c = new Client(lgwan);
    expect(
      (
        await c.post('/api/v1/auth/setup/complete', {
          token: tokenOf(url),
          password: GOOD_PASSWORD,
          confirmPassword: GOOD_PASSWORD,
        })
      ).status,
    ).toBe(200);
    const again = await new Client(lgwan).post('/api/v1/auth/setup/complete', {
      token: tokenOf(url),
      password: GOOD_PASSWORD,
      confirmPassword: GOOD_PASSWORD,
    });
    expect([again.status, again.body.error.code]).toEqual([410, 'auth.setup_link_invalid']);
    const url2 = await createUserWithLink(k.services, t.id, { loginId: 'late', displayName: 'x', role: 'staff' }, 'test');
    clock.advance(72 * 3_600_000 + 1000);
    expect((await new Client(lgwan).post('/api/v1/auth/setup/inspect', { token: tokenOf(url2) })).status).toBe(410);
    expect((await new Client(lgwan).post('/api/v1/auth/setup/inspect', { token: 'A'.repeat(43) })).status).toBe(410);
  });

  it('answers an unknown tenant, unknown login and wrong password identically [AC-18]', async () => {
    const t = await newTenant();
    const m = await member(t);
    const attempts = [
      { tenant: 'no-such-city', login: m.login, password: m.password },
      { tenant: t.slug, login: 'nobody', password: m.password },
      { tenant: t.slug, login: m.login, password: 'wrong-password-x' },
      { tenant: t.slug, login: m.login, password: 'x'.repeat(4000) },
    ];
    const bodies = [];
    for (const a of attempts) {
      const r = await new Client(lgwan).post('/api/v1/auth/login', a);
      expect(r.status).toBe(401);
      bodies.push({ ...r.body.error, requestId: undefined });
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
    expect(bodies[0].code).toBe('auth.invalid_credentials');
    const failed = await lastEvent(t.id);
    expect(failed).toMatchObject({ action: 'auth.login_failed', reason: 'wrong_password', target_id: m.id });
  });

  it('needs TOTP after the password, refuses bad formats, wrong codes and replays [AC-09]', async () => {
    const t = await newTenant();
    const m = await member(t);
    const c = new Client(lgwan);
    expect((await c.post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password })).body.next).toBe('mfa');
    expect((await c.get('/api/v1/me')).body.error.code).toBe('auth.mfa_required');
    expect((await c.post('/api/v1/auth/mfa/totp', { code: '12ab56' })).body.error.code).toBe('auth.totp_format');
    expect((await c.post('/api/v1/auth/mfa/totp', { code: '000000' })).body.error.code).toBe('auth.mfa_invalid');
    const good = code(m.secret!);
    expect((await c.post('/api/v1/auth/mfa/totp', { code: good })).body.next).toBe('done');
    expect((await c.get('/api/v1/me')).status).toBe(200);
    const replay = new Client(lgwan);
    await replay.post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password });
    expect((await replay.post('/api/v1/auth/mfa/totp', { code: good })).body.error.code).toBe('auth.mfa_invalid');
    expect(await lastEvent(t.id)).toMatchObject({ action: 'auth.mfa_failed', reason: 'totp_invalid' });
  });

  it('accepts each recovery code once [AC-09]', async () => {
    const t = await newTenant();
    const url = await createUserWithLink(k.services, t.id, { loginId: 'rc', displayName: 'x', role: 'staff' }, 'test');
    const c = new Client(lgwan);
    await c.post('/api/v1/auth/setup/complete', { token: tokenOf(url), password: GOOD_PASSWORD, confirmPassword: GOOD_PASSWORD });
    const secret = Buffer.from(Secret.fromBase32((await c.post('/api/v1/auth/mfa/totp/enroll')).body.secret).buffer);
    const codes: string[] = (await c.post('/api/v1/auth/mfa/totp/confirm', { code: code(secret) })).body.recoveryCodes;
    nextStep();
    for (const expected of ['done', 'again']) {
      const s = new Client(lgwan);
      await s.post('/api/v1/auth/login', { tenant: t.slug, login: 'rc', password: GOOD_PASSWORD });
      expect((await s.post('/api/v1/auth/mfa/recovery', { code: '123456' })).body.error.code).toBe('auth.recovery_code_format');
      const r = await s.post('/api/v1/auth/mfa/recovery', { code: codes[0]!.toUpperCase() });
      if (expected === 'done') expect(r.body.next).toBe('done');
      else expect(r.body.error.code).toBe('auth.mfa_invalid');
    }
  });

  it('locks an account after the threshold with a progressive delay; timed and admin unlock [AC-17]', async () => {
    const t = await newTenant({
      password: { ...(await k.services.tenantPolicy.get((await newTenant()).id)).password, lockoutThreshold: 3 },
    });
    const admin = await member(t, 'tenant_admin');
    const m = await member(t);
    for (let i = 0; i < 3; i++)
      await new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: 'wrong-password-x' });
    const locked = await new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password });
    expect([locked.status, locked.body.error.code]).toEqual([423, 'auth.locked']);
    // While locked the password is not checked: a wrong guess gets the very same answer (no oracle),
    // and does not lengthen the lock.
    const wrong = await new Client(lgwan).post('/api/v1/auth/login', {
      tenant: t.slug,
      login: m.login,
      password: 'wrong-password-x',
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([423, 'auth.locked']);
    clock.advance(61_000);
    expect(
      (await new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password })).status,
    ).toBe(200);
    for (let i = 0; i < 3; i++)
      await new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: 'wrong-password-x' });
    const unlock = await admin.client.post(`/api/v1/admin/users/${m.id}/unlock`);
    expect(unlock.status, JSON.stringify(unlock.body)).toBe(200);
    expect(
      (await new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password })).status,
    ).toBe(200);
    const events = await k.services.auditRepository.latestEvents(t.id, 12);
    expect(events.map((e) => e.action)).toContain('auth.locked_out');
    expect(events.map((e) => e.action)).toContain('user.unlocked');
  });

  it('counts parallel wrong passwords one by one [AC-17]', async () => {
    const t = await newTenant({
      password: { ...(await k.services.tenantPolicy.get((await newTenant()).id)).password, lockoutThreshold: 3 },
    });
    const m = await member(t);
    await Promise.all(
      Array.from({ length: 3 }, () =>
        new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: 'wrong-password-x' }),
      ),
    );
    const r = await new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password });
    expect([r.status, r.body.error?.code]).toEqual([423, 'auth.locked']);
  });

  it('the lockout covers the second factor, step-up and the current password; a right password alone does not reset it [AC-17, AC-13]', async () => {
    const t = await newTenant({
      password: { ...(await k.services.tenantPolicy.get((await newTenant()).id)).password, lockoutThreshold: 3 },
    });
    const m = await member(t);
    const login = () => new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password });
    // Two wrong passwords, then the right one: the count stands until the second factor succeeds,
    await new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: 'wrong-password-x' });
    await new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: 'wrong-password-x' });
    const s = new Client(lgwan);
    expect((await s.post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password })).body.next).toBe('mfa');
    // so one wrong code locks the account; then even the right code is refused.
    expect((await s.post('/api/v1/auth/mfa/totp', { code: '000000' })).body.error.code).toBe('auth.mfa_invalid');
    const right = await s.post('/api/v1/auth/mfa/totp', { code: code(m.secret!) });
    expect([right.status, right.body.error?.code]).toEqual([423, 'auth.locked']);
    expect((await s.post('/api/v1/auth/mfa/recovery', { code: 'abcd-efgh-jkmn' })).body.error.code).toBe('auth.locked');
    expect((await login()).body.error.code).toBe('auth.locked');
    // After the lock: the right code signs in and the count starts again.
    clock.advance(61_000);
    const s2 = new Client(lgwan);
    await s2.post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password });
    expect((await s2.post('/api/v1/auth/mfa/totp', { code: code(m.secret!) })).body.next).toBe('done');
    nextStep();
    // Wrong step-up codes and wrong current passwords on a signed-in session count too.
    expect((await s2.post('/api/v1/auth/step-up', { code: '000000' })).status).toBe(401);
    const pw = {
      currentPassword: 'wrong-password-x',
      newPassword: 'lantern-cobalt-meadow',
      confirmPassword: 'lantern-cobalt-meadow',
    };
    expect((await s2.post('/api/v1/auth/password', pw)).body.error.code).toBe('password.current_invalid');
    expect((await s2.post('/api/v1/auth/password', pw)).body.error.code).toBe('password.current_invalid');
    const stepUp = await s2.post('/api/v1/auth/step-up', { code: code(m.secret!) });
    expect([stepUp.status, stepUp.body.error?.code]).toEqual([423, 'auth.locked']);
    const change = await s2.post('/api/v1/auth/password', { ...pw, currentPassword: m.password });
    expect(change.body.error?.code).toBe('auth.locked');
    const events = (await k.services.auditRepository.latestEvents(t.id, 30)).map((e) => e.action);
    expect(events).toContain('auth.locked_out');
    expect(events).toContain('auth.password_change_failed');
  });

  it('adding a second factor on a signed-in session needs a recent step-up [AC-13, AC-09]', async () => {
    // A staff member without MFA (the tenant does not require it) is signed in with the password only.
    const t = await newTenant({
      mfa: { ...(await k.services.tenantPolicy.get((await newTenant()).id)).mfa, requiredForAll: false },
    });
    const m = await member(t);
    expect(m.secret).toBeNull();
    clock.advance(60 * 60_000); // long after the sign-in
    const c = await signIn(m);
    for (const path of ['/api/v1/auth/mfa/totp/enroll', '/api/v1/auth/webauthn/register/options']) {
      const r = await c.post(path);
      expect([r.status, r.body.error?.code], path).toEqual([403, 'auth.step_up_required']);
    }
    expect((await c.post('/api/v1/auth/step-up', { password: 'wrong-password-x' })).status).toBe(401);
    expect((await c.post('/api/v1/auth/step-up', { password: GOOD_PASSWORD })).status).toBe(204);
    const enroll = await c.post('/api/v1/auth/mfa/totp/enroll');
    expect(enroll.status, JSON.stringify(enroll.body)).toBe(200);
    const secret = Buffer.from(Secret.fromBase32(enroll.body.secret).buffer);
    expect((await c.post('/api/v1/auth/mfa/totp/confirm', { code: code(secret) })).body.next).toBe('done');
  });

  it('a password reset through a setup link ends every session signed in with the old password [AC-16]', async () => {
    const t = await newTenant();
    const admin = await member(t, 'tenant_admin');
    const m = await member(t);
    const old = await signIn(m);
    expect((await old.get('/api/v1/me')).status).toBe(200);
    nextStep();
    await admin.client.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    const link = await admin.client.post(`/api/v1/admin/users/${m.id}/setup-link`);
    expect(link.status, JSON.stringify(link.body)).toBe(200);
    const token = tokenOf(link.body.setupUrl);
    const done = await new Client(lgwan).post('/api/v1/auth/setup/complete', {
      token,
      password: 'lantern-cobalt-meadow',
      confirmPassword: 'lantern-cobalt-meadow',
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect((await old.get('/api/v1/me')).status).toBe(401);
    expect((await m.client.get('/api/v1/me')).status).toBe(401);
  });

  it('password history counts the current password once [AC-16]', async () => {
    const base = await k.services.tenantPolicy.get((await newTenant()).id);
    const t = await newTenant({ password: { ...base.password, history: 2 } });
    const m = await member(t);
    const change = (from: string, to: string) =>
      m.client.post('/api/v1/auth/password', { currentPassword: from, newPassword: to, confirmPassword: to });
    expect((await change(GOOD_PASSWORD, 'lantern-cobalt-meadow')).status).toBe(200);
    // The last two passwords are the current one and the one before: going back is refused.
    const back = await change('lantern-cobalt-meadow', GOOD_PASSWORD);
    expect([back.status, back.body.error?.reasons]).toEqual([400, ['reused']]);
  });

  it('limits sign-in attempts per client address more tightly than the rest of the API', async () => {
    const t = await newTenant();
    const strict = {
      ...k.services,
      config: { ...k.services.config, limits: { ...k.services.config.limits, authAttemptsPerMinute: 3 } },
    };
    const app = await buildServer(strict, { zone: 'lgwan', webUi: false });
    try {
      const attempt = (ip: string) =>
        new Client(app, ip).post('/api/v1/auth/login', { tenant: t.slug, login: 'nobody', password: 'wrong-password-x' });
      for (let i = 0; i < 3; i++) expect((await attempt('198.51.100.20')).status).toBe(401);
      const limited = await attempt('198.51.100.20');
      expect([limited.status, limited.body.error.code]).toEqual([429, 'request.rate_limited']);
      expect((await attempt('198.51.100.21')).status).toBe(401);
      expect((await new Client(app, '198.51.100.20').get('/api/v1/status')).status).toBe(200); // the rest of the API is not affected
    } finally {
      await app.close();
    }
  });

  it('sets a __Host- cookie that is Secure, HttpOnly and SameSite=Strict, bound to its zone [AC-13]', async () => {
    const t = await newTenant();
    const m = await member(t);
    const c = new Client(lgwan);
    const r = await c.post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password });
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/^__Host-kura=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    const full = await signIn(m);
    const stolen = new Client(internet);
    stolen.cookie = full.cookie;
    expect((await stolen.get('/api/v1/me')).body.error.code).toBe('auth.unauthenticated');
  });

  it('ends sessions after the idle timeout, the absolute lifetime, logout and sign-out everywhere [AC-13]', async () => {
    const t = await newTenant();
    const m = await member(t);
    const c = await signIn(m);
    clock.advance(29 * 60_000);
    expect((await c.get('/api/v1/me')).status).toBe(200);
    clock.advance(29 * 60_000);
    expect((await c.get('/api/v1/me')).status).toBe(200); // activity extended it
    clock.advance(31 * 60_000);
    expect((await c.get('/api/v1/me')).status).toBe(401);
    const d = await signIn(m);
    for (let i = 0; i < 26; i++) {
      clock.advance(28 * 60_000);
      await d.get('/api/v1/me');
    }
    expect((await d.get('/api/v1/me')).status).toBe(401); // past 12 h despite activity
    const a = await signIn(m);
    const b = await signIn(m);
    expect((await a.get('/api/v1/me/sessions')).body.sessions).toHaveLength(2);
    expect((await a.post('/api/v1/auth/logout')).status).toBe(204);
    expect((await a.get('/api/v1/me')).status).toBe(401);
    expect((await b.get('/api/v1/me')).status).toBe(200);
    const e = await signIn(m);
    expect((await e.post('/api/v1/auth/logout-all')).status).toBe(204);
    expect((await b.get('/api/v1/me')).status).toBe(401);
  });

  it('refuses state-changing requests without the session CSRF token or from another site [AC-13]', async () => {
    const t = await newTenant();
    const m = await member(t);
    const c = await signIn(m);
    const csrf = c.csrf;
    c.csrf = null;
    expect((await c.post('/api/v1/auth/logout')).body.error.code).toBe('auth.csrf_invalid');
    c.csrf = 'x'.repeat(43);
    expect((await c.post('/api/v1/auth/logout')).body.error.code).toBe('auth.csrf_invalid');
    c.csrf = csrf;
    expect((await c.post('/api/v1/auth/logout')).status).toBe(204);
    const cross = await new Client(lgwan).post(
      '/api/v1/auth/login',
      { tenant: t.slug, login: m.login, password: m.password },
      { 'sec-fetch-site': 'cross-site' },
    );
    expect([cross.status, cross.body.error.code]).toEqual([403, 'auth.csrf_invalid']);
  });

  it('changes a password interactively and says why a new one is refused [AC-16] [AC-17]', async () => {
    const t = await newTenant();
    const m = await member(t);
    const c = await signIn(m);
    const other = await signIn(m);
    const change = (currentPassword: string, newPassword: string, confirmPassword = newPassword) =>
      c.post('/api/v1/auth/password', { currentPassword, newPassword, confirmPassword });
    expect((await change('not-it-at-all', 'river-stone-lantern')).body.error.code).toBe('password.current_invalid');
    const cases: Array<[string, string, string[]]> = [
      ['iloveyou', 'iloveyou', ['blocklisted']],
      [`${m.login}-river-stone`, `${m.login}-river-stone`, ['context_word']],
      ['river-stone-lantern', 'river-stone-lanterN', ['mismatch']],
      [GOOD_PASSWORD, GOOD_PASSWORD, ['same_as_current']],
      ['a1b2c3d4e5'.repeat(13), 'a1b2c3d4e5'.repeat(13), ['too_long']],
    ];
    for (const [pw, confirm, reasons] of cases) {
      const r = await change(m.password, pw, confirm);
      expect([r.status, r.body.error.code, r.body.error.reasons], pw).toEqual([400, 'password.rejected', reasons]);
    }
    const ok = await change(m.password, 'ｒｉｖｅｒ-stone-lantern'); // full-width letters are NFKC-normalised
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await other.get('/api/v1/me')).status).toBe(401); // other sessions ended
    expect((await c.get('/api/v1/me')).status).toBe(200);
    expect((await change('river-stone-lantern', GOOD_PASSWORD)).body.error.reasons).toEqual(['reused']);
    expect(
      (await new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: 'river-stone-lantern' }))
        .status,
    ).toBe(200);
    const check = await c.post('/api/v1/auth/password/check', { password: 'password' });
    expect(check.body).toMatchObject({ ok: false, reasons: ['blocklisted'], minLength: 8 });
  });

  it('refuses a policy save made from a page another admin has since changed, and keeps their change [LOG-01]', async () => {
    const t = await newTenant();
    const [a, b] = [await member(t, 'tenant_admin'), await member(t, 'tenant_admin')];
    for (const x of [a, b]) {
      await x.client.post('/api/v1/auth/step-up', { code: code(x.secret!) });
      nextStep();
    }
    const readA = await a.client.get('/api/v1/admin/policy');
    const readB = await b.client.get('/api/v1/admin/policy');
    expect(readA.headers.etag).toMatch(/^"[0-9a-f]{32}"$/);
    const savedB = await b.client.req(
      'PUT',
      '/api/v1/admin/policy',
      { ...readB.body, loginBanner: '本日 18 時から保守作業を行います。' },
      { 'if-match': String(readB.headers.etag) },
    );
    expect(savedB.status, JSON.stringify(savedB.body)).toBe(200);
    expect(savedB.headers.etag).not.toBe(readA.headers.etag);
    const eventsBefore = (await k.services.auditRepository.latestEvents(t.id, 100)).length;
    // A's page still shows the old banner: saving it would silently undo B's.
    const stale = await a.client.req(
      'PUT',
      '/api/v1/admin/policy',
      { ...readA.body, session: { ...readA.body.session, idleMinutes: 20 } },
      { 'if-match': String(readA.headers.etag) },
    );
    expect([stale.status, stale.body.error.code]).toEqual([409, 'tenant.settings_conflict']);
    expect((await k.services.tenantPolicy.get(t.id)).loginBanner).toBe('本日 18 時から保守作業を行います。');
    expect((await k.services.auditRepository.latestEvents(t.id, 100)).length).toBe(eventsBefore);
    // Read again, the same change goes through.
    const fresh = await a.client.get('/api/v1/admin/policy');
    expect(fresh.headers.etag).toBe(savedB.headers.etag);
    const retried = await a.client.req(
      'PUT',
      '/api/v1/admin/policy',
      { ...fresh.body, session: { ...fresh.body.session, idleMinutes: 20 } },
      { 'if-match': String(fresh.headers.etag) },
    );
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    const now = await k.services.tenantPolicy.get(t.id);
    expect([now.loginBanner, now.session.idleMinutes]).toEqual(['本日 18 時から保守作業を行います。', 20]);
  });

  it('forces a password change after expiry and when an admin requires it [AC-17]', async () => {
    const t = await newTenant();
    const admin = await member(t, 'tenant_admin');
    const m = await member(t);
    await admin.client.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    nextStep();
    const policy = (await admin.client.get('/api/v1/admin/policy')).body;
    const put = await admin.client.req('PUT', '/api/v1/admin/policy', {
      ...policy,
      password: { ...policy.password, validityDays: 30 },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(await lastEvent(t.id)).toMatchObject({ action: 'tenant.settings_changed' });
    expect(JSON.parse((await lastEvent(t.id)).details)).toMatchObject({
      changed: ['password'],
      before: { password: { validityDays: 0 } },
      after: { password: { validityDays: 30 } },
    });
    // Revoked device serials as an administrator copies them come back in one form, through the API (AC-11).
    const revoked = await admin.client.req('PUT', '/api/v1/admin/policy', {
      ...put.body,
      deviceCerts: { ...put.body.deviceCerts, revokedSerials: ['0a:1b:2c', ' 00FF '] },
    });
    expect([revoked.status, revoked.body.deviceCerts?.revokedSerials]).toEqual([200, ['A1B2C', 'FF']]);
    expect((await admin.client.get('/api/v1/admin/policy')).body.deviceCerts.revokedSerials).toEqual(['A1B2C', 'FF']);
    const bad = await admin.client.req('PUT', '/api/v1/admin/policy', {
      ...put.body,
      deviceCerts: { ...put.body.deviceCerts, revokedSerials: ['PC-0042'] },
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'tenant.settings_invalid']);
    clock.advance(31 * 86_400_000);
    const c = new Client(lgwan);
    await c.post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password });
    expect((await c.post('/api/v1/auth/mfa/totp', { code: code(m.secret!) })).body.next).toBe('password_change');
    nextStep();
    expect((await c.get('/api/v1/me')).body.error.code).toBe('auth.password_change_required');
    expect(
      (
        await c.post('/api/v1/auth/password', {
          currentPassword: m.password,
          newPassword: 'maple-orbit-canyon',
          confirmPassword: 'maple-orbit-canyon',
        })
      ).body.next,
    ).toBe('done');
    expect((await c.get('/api/v1/me')).status).toBe(200);

    // The admin's password expired too: the policy applies to every role.
    const adminNow = await signIn(admin);
    expect((await adminNow.get('/api/v1/me')).body.error.code).toBe('auth.password_change_required');
    const changed = await adminNow.post('/api/v1/auth/password', {
      currentPassword: admin.password,
      newPassword: 'cedar-pilot-meadow',
      confirmPassword: 'cedar-pilot-meadow',
    });
    expect(changed.body.next).toBe('done');
    await adminNow.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    nextStep();
    expect((await adminNow.post(`/api/v1/admin/users/${m.id}/require-password-change`)).status).toBe(200);
    expect((await c.get('/api/v1/me')).status).toBe(401); // sessions ended
    const again = new Client(lgwan);
    await again.post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: 'maple-orbit-canyon' });
    expect((await again.post('/api/v1/auth/mfa/totp', { code: code(m.secret!) })).body.next).toBe('password_change');
    nextStep();
  });

  it('the two-person rule guards its own removal: one admin only asks, a second admin turns it off [AC-01]', async () => {
    const t = await newTenant({ twoPersonRule: true });
    const [a, b] = [await member(t, 'tenant_admin', 'adm-c'), await member(t, 'tenant_admin', 'adm-d')];
    const ac = await signIn(a);
    await ac.post('/api/v1/auth/step-up', { code: code(a.secret!) });
    nextStep();
    const off = async (c: Client) => {
      const policy = (await c.get('/api/v1/admin/policy')).body;
      // Whatever a client sends as the pending request is ignored: only the server sets it.
      const r = await c.req('PUT', '/api/v1/admin/policy', {
        ...policy,
        twoPersonRule: false,
        twoPersonRuleOffRequest: { by: b.id, at: clock.now().toISOString() },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body;
    };
    const asked = await off(ac);
    expect(asked.twoPersonRule).toBe(true);
    expect(asked.twoPersonRuleOffRequest).toMatchObject({ by: a.id });
    // Still on: A's next registration waits for a second admin, and asking again changes nothing.
    const created = await ac.post('/api/v1/admin/users', { loginId: 'Kato', displayName: '加藤 一', role: 'staff' });
    expect(created.body.user.state).toBe('requested');
    expect((await off(ac)).twoPersonRule).toBe(true);
    const bc = await signIn(b);
    await bc.post('/api/v1/auth/step-up', { code: code(b.secret!) });
    nextStep();
    const confirmed = await off(bc);
    expect([confirmed.twoPersonRule, confirmed.twoPersonRuleOffRequest]).toEqual([false, null]);
    const actions = (await k.services.auditRepository.latestEvents(t.id, 30)).map((e) => e.action);
    expect(actions.filter((x) => x === 'tenant.two_person_rule_off_requested')).toHaveLength(1);
    expect(actions).toContain('tenant.two_person_rule_disabled');
  });

  it('keeps a user requested until a second admin approves under the two-person rule [AC-01]', async () => {
    const t = await newTenant({ twoPersonRule: true });
    const [a, b] = [await member(t, 'tenant_admin', 'adm-a'), await member(t, 'tenant_admin', 'adm-b')];
    const ac = await signIn(a);
    await ac.post('/api/v1/auth/step-up', { code: code(a.secret!) });
    nextStep();
    const created = await ac.post('/api/v1/admin/users', { loginId: 'Yamada', displayName: '山田 花子', role: 'staff' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.user).toMatchObject({ loginId: 'yamada', state: 'requested', createdBy: a.id });
    expect(created.body.setupUrl).toBeUndefined();
    expect(
      (await new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: 'yamada', password: 'anything-at-all' }))
        .status,
    ).toBe(401);
    const self = await ac.post(`/api/v1/admin/users/${created.body.user.id}/approve`);
    expect([self.status, self.body.error.code]).toEqual([409, 'user.self_approval']);
    const bc = await signIn(b);
    await bc.post('/api/v1/auth/step-up', { code: code(b.secret!) });
    nextStep();
    const approved = await bc.post(`/api/v1/admin/users/${created.body.user.id}/approve`);
    expect(approved.body.user).toMatchObject({ state: 'active', approvedBy: b.id });
    expect(approved.body.setupUrl).toMatch(/^https:\/\/localhost:\d+\/setup#token=[A-Za-z0-9_-]{43}$/);
    const ev = await k.services.auditRepository.latestEvents(t.id, 5);
    expect(ev.find((e) => e.action === 'user.approved')).toMatchObject({ actor_id: b.id, target_id: created.body.user.id });
  });

  it('never reuses a deleted login ID and protects the last admin [AC-02]', async () => {
    const t = await newTenant();
    const admin = await member(t, 'tenant_admin');
    const m = await member(t, 'staff', 'kimura');
    const c = await signIn(admin);
    await c.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    nextStep();
    expect((await c.req('DELETE', `/api/v1/admin/users/${m.id}`)).body.user.state).toBe('deleted');
    expect((await m.client.get('/api/v1/me')).status).toBe(401);
    const again = await c.post('/api/v1/admin/users', { loginId: 'KIMURA', displayName: '木村', role: 'staff' });
    expect([again.status, again.body.error.code]).toEqual([409, 'user.login_taken']);
    expect((await c.post(`/api/v1/admin/users/${admin.id}/suspend`)).body.error.code).toBe('user.last_admin');
  });

  it('limits admin routes to tenant admins and asks for a recent step-up for changes [AC-05] [AC-13]', async () => {
    const t = await newTenant();
    const admin = await member(t, 'tenant_admin');
    const staff = await member(t);
    expect((await staff.client.get('/api/v1/admin/users')).body.error.code).toBe('auth.forbidden');
    const c = await signIn(admin);
    expect((await c.get('/api/v1/admin/users')).status).toBe(200);
    clock.advance(11 * 60_000);
    await c.get('/api/v1/me');
    const stale = await c.post('/api/v1/admin/users', { loginId: 'late-one', displayName: 'x', role: 'staff' });
    expect([stale.status, stale.body.error.code]).toEqual([403, 'auth.step_up_required']);
    expect((await c.post('/api/v1/auth/step-up', { code: '000000' })).status).toBe(401);
    expect((await c.post('/api/v1/auth/step-up', { code: code(admin.secret!) })).status).toBe(204);
    nextStep();
    expect((await c.post('/api/v1/admin/users', { loginId: 'late-one', displayName: 'x', role: 'staff' })).status).toBe(201);
    expect((await c.req('PUT', '/api/v1/admin/policy', { password: { validityDays: 7 } })).body.error).toMatchObject({
      code: 'tenant.settings_invalid',
      reasons: ['password.validityDays'],
    });
  });

  it('denies logins and requests from outside the tenant’s IP allow-list, per zone and role [AC-10]', async () => {
    const t = await newTenant();
    const admin = await member(t, 'tenant_admin');
    const staff = await member(t);
    const live = await signIn(staff);
    await k.services.tenantPolicy.update(systemActor(t.id), {
      ...(await k.services.tenantPolicy.get(t.id)),
      ipRules: [
        { zone: 'lgwan', roles: [], cidrs: ['10.20.0.0/16', '2001:db8::/32'] },
        { zone: 'lgwan', roles: ['tenant_admin'], cidrs: ['10.20.30.0/24'] },
      ],
    });
    const denied = await new Client(lgwan).post('/api/v1/auth/login', {
      tenant: t.slug,
      login: staff.login,
      password: staff.password,
    });
    expect([denied.status, denied.body.error.code]).toEqual([403, 'tenant.ip_denied']);
    expect(await lastEvent(t.id)).toMatchObject({
      action: 'tenant.ip_denied',
      outcome: 'denied',
      ip: '127.0.0.1',
      zone: 'lgwan',
    });
    expect((await live.get('/api/v1/me')).body.error.code).toBe('tenant.ip_denied'); // every request, not only login
    expect(
      (
        await new Client(lgwan, '10.20.1.1').post('/api/v1/auth/login', {
          tenant: t.slug,
          login: staff.login,
          password: staff.password,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await new Client(lgwan, '2001:db8::5').post('/api/v1/auth/login', {
          tenant: t.slug,
          login: staff.login,
          password: staff.password,
        })
      ).status,
    ).toBe(200);
    // The admin-only rule replaces the general one for admins. Refused for the role alone, the right
    // password gets the wrong password's answer, so it is not confirmed from the wrong network; the
    // audit event keeps the real reason.
    const asAdmin = (ip: string, password: string) =>
      new Client(lgwan, ip).post('/api/v1/auth/login', { tenant: t.slug, login: admin.login, password });
    const wrong = await asAdmin('10.20.1.1', admin.password + 'x');
    const right = await asAdmin('10.20.1.1', admin.password);
    expect([right.status, right.body.error.code]).toEqual([wrong.status, wrong.body.error.code]);
    expect([right.status, right.body.error.code]).toEqual([401, 'auth.invalid_credentials']);
    expect(await lastEvent(t.id)).toMatchObject({ action: 'tenant.ip_denied', outcome: 'denied', ip: '10.20.1.1' });
    expect(
      (
        await new Client(lgwan, '10.20.30.4').post('/api/v1/auth/login', {
          tenant: t.slug,
          login: admin.login,
          password: admin.password,
        })
      ).status,
    ).toBe(200);
    // A role's own rule may be wider than the general one: it is not refused by the general rule first.
    await k.services.tenantPolicy.update(systemActor(t.id), {
      ...(await k.services.tenantPolicy.get(t.id)),
      ipRules: [
        { zone: 'lgwan', roles: [], cidrs: ['10.20.0.0/16'] },
        { zone: 'lgwan', roles: ['tenant_admin'], cidrs: ['192.0.2.0/24'] },
      ],
    });
    expect((await asAdmin('192.0.2.7', admin.password)).status).toBe(200);
    expect(
      (
        await new Client(lgwan, '192.0.2.7').post('/api/v1/auth/login', {
          tenant: t.slug,
          login: staff.login,
          password: staff.password,
        })
      ).status,
    ).toBe(401);
    // No rule for the internet zone: unrestricted there.
    expect(
      (await new Client(internet).post('/api/v1/auth/login', { tenant: t.slug, login: staff.login, password: staff.password }))
        .status,
    ).toBe(200);
  });

  it('answers 404 when an admin of one tenant targets a user of another [AC-08]', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const victim = await member(a);
    const adminB = await member(b, 'tenant_admin');
    const c = await signIn(adminB);
    await c.post('/api/v1/auth/step-up', { code: code(adminB.secret!) });
    nextStep();
    const routes: Array<[string, string]> = [
      ...[
        'approve',
        'reject',
        'suspend',
        'reactivate',
        'unlock',
        'reset-mfa',
        'require-password-change',
        'setup-link',
        'sessions/revoke',
      ].map((act): [string, string] => ['POST', `/api/v1/admin/users/${victim.id}/${act}`]),
      ['DELETE', `/api/v1/admin/users/${victim.id}`],
    ];
    for (const [method, url] of routes) {
      const r = await c.req(method, url);
      expect([r.status, r.body.error.code], url).toEqual([404, 'user.not_found']);
    }
    const list = (await c.get('/api/v1/admin/users')).body.users.map((u: { id: string }) => u.id);
    expect(list).not.toContain(victim.id);
    expect((await victim.client.get('/api/v1/me')).status).toBe(200); // untouched
  });

  it('shows the previous login and failures since, after sign-in [AC-12]', async () => {
    const t = await newTenant({ loginBanner: '許可された職員以外の利用を禁じます。' });
    expect((await new Client(lgwan).get(`/api/v1/auth/banner?tenant=${t.slug}`)).body).toEqual({
      banner: '許可された職員以外の利用を禁じます。',
    });
    expect((await new Client(lgwan).get('/api/v1/auth/banner?tenant=nowhere')).body).toEqual({ banner: '' });
    const m = await member(t);
    await signIn(m, lgwan, '10.1.2.3');
    await new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: 'wrong-password-x' });
    await new Client(lgwan).post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: 'wrong-password-y' });
    const c = await signIn(m);
    const me = (await c.get('/api/v1/me')).body;
    expect(me.lastLogin).toMatchObject({ ip: '10.1.2.3', zone: 'lgwan' });
    expect(me.failuresSinceLastLogin).toBe(2);
  });

  it('asks every user to accept the acceptable-use notice at first login and after each change [HR-03]', async () => {
    const t = await newTenant();
    const admin = await member(t, 'tenant_admin');
    const m = await member(t);
    await admin.client.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    nextStep();
    const policy = (await admin.client.get('/api/v1/admin/policy')).body;
    const saved = await admin.client.req('PUT', '/api/v1/admin/policy', {
      ...policy,
      acceptableUse: { version: 0, text: '業務目的以外で利用しないこと。' },
    });
    expect(saved.body.acceptableUse.version).toBe(1);
    const c = new Client(lgwan);
    await c.post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password });
    expect((await c.post('/api/v1/auth/mfa/totp', { code: code(m.secret!) })).body.next).toBe('terms');
    nextStep();
    expect((await c.get('/api/v1/me')).body.error.code).toBe('auth.terms_required');
    expect((await c.get('/api/v1/auth/terms')).body).toEqual({ version: 1, text: '業務目的以外で利用しないこと。' });
    expect((await c.post('/api/v1/auth/terms/accept', { version: 2 })).body.error.code).toBe('auth.terms_outdated');
    expect((await c.post('/api/v1/auth/terms/accept', { version: 1 })).body.next).toBe('done');
    expect((await c.get('/api/v1/me')).status).toBe(200);
    expect(await lastEvent(t.id)).toMatchObject({ action: 'auth.login_succeeded' });
    const accepted = (await k.services.auditRepository.latestEvents(t.id, 3)).find((e) => e.action === 'user.terms_accepted')!;
    expect(accepted).toMatchObject({ actor_id: m.id, ip: '127.0.0.1' });
    expect(JSON.parse(accepted.details)).toEqual({ version: 1 });
    // A long notice is recorded by its hash, not copied into the audit entry.
    const long = await k.services.tenantPolicy.update(systemActor(t.id), {
      ...saved.body,
      acceptableUse: { version: 1, text: '長'.repeat(20_000) },
    });
    expect(long.acceptableUse.version).toBe(2);
    expect(JSON.parse((await lastEvent(t.id)).details).after.acceptableUse).toMatchObject({ version: 2, textLength: 20_000 });
    await k.services.tenantPolicy.update(systemActor(t.id), {
      ...long,
      acceptableUse: { version: 2, text: '業務目的以外で利用しないこと。' },
    });
    const again0 = new Client(lgwan);
    await again0.post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password });
    expect((await again0.post('/api/v1/auth/mfa/totp', { code: code(m.secret!) })).body.next).toBe('terms');
    nextStep();
    expect((await again0.post('/api/v1/auth/terms/accept', { version: 3 })).body.next).toBe('done');
    // Signing in again needs no new acceptance; a changed text does.
    const again = await signIn(m);
    expect((await again.get('/api/v1/me')).status).toBe(200);
    await admin.client.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    nextStep();
    const current = (await admin.client.get('/api/v1/admin/policy')).body;
    const v2 = await admin.client.req('PUT', '/api/v1/admin/policy', {
      ...current,
      acceptableUse: { version: 3, text: '改訂: 私物端末での利用禁止。' },
    });
    expect(v2.body.acceptableUse.version).toBe(4);
    const d = new Client(lgwan);
    await d.post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password });
    expect((await d.post('/api/v1/auth/mfa/totp', { code: code(m.secret!) })).body.next).toBe('terms');
    nextStep();
  });

  it('reports inactive accounts and suspends them by the daily job when switched on [AC-03]', async () => {
    const t = await newTenant();
    const admin = await member(t, 'tenant_admin');
    const idle = await member(t, 'staff', 'idle-one');
    clock.advance(91 * 86_400_000);
    const c = await signIn(admin);
    const report = (await c.get('/api/v1/admin/users/inactive')).body.users.map((u: { loginId: string }) => u.loginId);
    expect(report).toEqual(['idle-one']);
    await k.services.jobHandlers['identity.inactive_accounts']!({
      id: 'j',
      kind: 'identity.inactive_accounts',
      tenantId: null,
      payload: {},
      attempts: 1,
      maxAttempts: 1,
      lockedUntil: '',
    });
    expect((await k.services.userRepository.findById(t.id, idle.id))!.state).toBe('active'); // auto-suspend is off by default
    await k.services.tenantPolicy.update(systemActor(t.id), {
      ...(await k.services.tenantPolicy.get(t.id)),
      inactivity: { days: 90, autoSuspend: true },
    });
    await k.services.jobHandlers['identity.inactive_accounts']!({
      id: 'j',
      kind: 'identity.inactive_accounts',
      tenantId: null,
      payload: {},
      attempts: 1,
      maxAttempts: 1,
      lockedUntil: '',
    });
    expect((await k.services.userRepository.findById(t.id, idle.id))!.state).toBe('suspended');
    expect((await k.services.userRepository.findById(t.id, admin.id))!.state).toBe('active');
    expect((await k.services.auditRepository.latestEvents(t.id, 3)).map((e) => e.action)).toContain('user.suspended_inactive');
  });

  it('exports the effective authentication policy as JSON and a Japanese PDF, versioned and audited [AC-14]', async () => {
    const t = await newTenant();
    const admin = await member(t, 'tenant_admin');
    const c = await signIn(admin);
    const stale = await c.get('/api/v1/admin/auth-policy/export?format=json');
    clock.advance(11 * 60_000);
    expect((await c.get('/api/v1/admin/auth-policy/export?format=json')).body.error.code).toBe('auth.step_up_required');
    await c.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    nextStep();
    expect(stale.status).toBe(200);
    const json = await c.get('/api/v1/admin/auth-policy/export?format=json');
    expect(json.headers['content-disposition']).toMatch(/attachment; filename="auth-policy-city-\d+-\d+-v1\.json"/);
    const items = json.body.sections.flatMap((s: { items: Array<{ label: string; value: string }> }) => s.items);
    expect(items.find((i: { label: string }) => i.label === 'パスワードの有効期限').value).toBe(
      '0日 = 期限なし（漏えい・侵害の疑い時に強制変更）',
    );
    expect(json.body).toMatchObject({ version: 1, tenant: { slug: t.slug }, settings: { password: { validityDays: 0 } } });
    const policy = (await c.get('/api/v1/admin/policy')).body;
    await c.req('PUT', '/api/v1/admin/policy', { ...policy, password: { ...policy.password, validityDays: 180 } });
    const v2 = await c.get('/api/v1/admin/auth-policy/export?format=json');
    expect(v2.body.version).toBe(2);
    expect(v2.body.contentHash).not.toBe(json.body.contentHash);
    expect(v2.body.sections[0].items.find((i: { label: string }) => i.label === 'パスワードの有効期限').value).toMatch(/^180日/);
    const pdf = await c.app.inject({ url: '/api/v1/admin/auth-policy/export?format=pdf', headers: { cookie: c.cookie! } });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.rawPayload.length).toBeGreaterThan(2000);
    expect((await k.services.auditRepository.latestEvents(t.id, 1))[0]).toMatchObject({ action: 'tenant.auth_policy_exported' });
    const staff = await member(t);
    expect((await staff.client.get('/api/v1/admin/auth-policy/export')).body.error.code).toBe('auth.forbidden');
  });

  it('issues scoped, expiring API tokens shown once, usable only where their scope allows and only while the tenant allows them [AC-15] [AC-06]', async () => {
    const t = await newTenant();
    const admin = await member(t, 'tenant_admin');
    const m = await member(t);
    const c = await signIn(m);
    await c.post('/api/v1/auth/step-up', { code: code(m.secret!) });
    nextStep();
    const off = await c.post('/api/v1/me/tokens', { name: 'sync', scopes: ['me:read'] });
    expect([off.status, off.body.error.code]).toEqual([403, 'tenant.feature_disabled']);
    const s = await k.services.tenantPolicy.get(t.id);
    await k.services.tenantPolicy.update(systemActor(t.id), {
      ...s,
      features: { ...s.features, lgwan: { ...s.features.lgwan, api_tokens: true } },
    });
    expect((await c.post('/api/v1/me/tokens', { name: 'long', scopes: ['me:read'], expiresInDays: 120 })).status).toBe(400);
    const created = await c.post('/api/v1/me/tokens', { name: 'sync', scopes: ['me:read'] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const token: string = created.body.token;
    expect(token).toMatch(/^kura_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(created.body.info.expiresAt) - clock.now().getTime()).toBe(90 * 86_400_000);
    const bearer = (url: string, app: App = lgwan, method = 'GET') =>
      app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${token}` } });
    const me = await bearer('/api/v1/me');
    expect([me.statusCode, me.json().user.id]).toEqual([200, m.id]);
    expect((await bearer('/api/v1/me/sessions')).json().error.code).toBe('auth.token_not_allowed');
    expect((await bearer('/api/v1/auth/logout', lgwan, 'POST')).json().error.code).toBe('auth.token_not_allowed');
    expect((await bearer('/api/v1/me', internet)).json().error.code).toBe('tenant.feature_disabled'); // switched on for LGWAN only
    const list = (await c.get('/api/v1/me/tokens')).body.tokens;
    expect(list[0]).toMatchObject({ name: 'sync', lastUsedIp: '127.0.0.1', revoked: false });
    expect(JSON.stringify(list)).not.toContain(token);
    const row = await k.services.database.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', list[0].id)
      .executeTakeFirstOrThrow();
    expect(row.token_hash).not.toBe(token);
    // The tenant admin sees and revokes it; another tenant's admin cannot.
    const other = await member(await newTenant(), 'tenant_admin');
    expect((await other.client.req('DELETE', `/api/v1/admin/tokens/${list[0].id}`)).status).toBe(404);
    const ac = await signIn(admin);
    await ac.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    nextStep();
    expect((await ac.get('/api/v1/admin/tokens')).body.tokens.map((x: { id: string }) => x.id)).toEqual([list[0].id]);
    expect((await ac.req('DELETE', `/api/v1/admin/tokens/${list[0].id}`)).status).toBe(204);
    expect((await bearer('/api/v1/me')).statusCode).toBe(401);
    expect((await lgwan.inject({ url: '/api/v1/me', headers: { authorization: 'Bearer kura_forged' } })).statusCode).toBe(401);
    const actions = (await k.services.auditRepository.latestEvents(t.id, 20)).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['api_token.created', 'api_token.used', 'api_token.revoked']));
  });

  it('runs an access review: confirm or revoke each user, sign off with findings, diff against the last one, export [AC-04]', async () => {
    const t = await newTenant();
    const admin = await member(t, 'tenant_admin');
    const auditor = await member(t, 'auditor');
    const keep = await member(t, 'staff', 'keep-me');
    const drop = await member(t, 'staff', 'drop-me');
    const c = await signIn(admin);
    await c.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    nextStep();
    const started = await c.post('/api/v1/admin/access-reviews');
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const review = started.body;
    expect(review.items.map((i: { loginId: string }) => i.loginId).sort()).toEqual(
      [admin.login, auditor.login, 'drop-me', 'keep-me'].sort(),
    );
    expect(review.diff.added).toHaveLength(4); // the first review: everyone is new
    expect((await c.post('/api/v1/admin/access-reviews')).body.error.code).toBe('review.already_open');
    const decide = (userId: string, decision: string) =>
      c.post(`/api/v1/admin/access-reviews/${review.id}/items/${userId}`, { decision });
    expect((await decide(drop.id, 'revoked')).status).toBe(204);
    expect((await drop.client.get('/api/v1/me')).status).toBe(401); // revoking suspends at once
    expect((await c.post(`/api/v1/admin/access-reviews/${review.id}/sign-off`, { findings: '' })).body.error.code).toBe(
      'review.incomplete',
    );
    for (const u of [admin, auditor, keep]) expect((await decide(u.id, 'confirmed')).status).toBe(204);
    const signed = await c.post(`/api/v1/admin/access-reviews/${review.id}/sign-off`, { findings: '退職者1名の権限を削除' });
    expect(signed.body).toMatchObject({ state: 'signed_off', signedOffBy: admin.id, findings: '退職者1名の権限を削除' });
    expect((await decide(keep.id, 'revoked')).body.error.code).toBe('review.closed');
    const csv = await c.app.inject({
      url: `/api/v1/admin/access-reviews/${review.id}/export?format=csv`,
      headers: { cookie: c.cookie! },
    });
    expect(csv.body.startsWith('\ufeffログインID,氏名,ロール,状態')).toBe(true);
    expect(csv.body).toMatch(/drop-me,[^\n]*,revoked,/);
    const xlsx = await c.app.inject({
      url: `/api/v1/admin/access-reviews/${review.id}/export?format=xlsx`,
      headers: { cookie: c.cookie! },
    });
    expect(xlsx.rawPayload.subarray(0, 2).toString()).toBe('PK');
    // The next review shows what changed since this one.
    await member(t, 'staff', 'new-one');
    await c.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    nextStep();
    const next = (await c.post('/api/v1/admin/access-reviews')).body;
    expect(next.diff).toEqual({
      added: ['new-one'],
      removed: [],
      changed: [{ loginId: 'drop-me', from: 'staff/active', to: 'staff/suspended' }],
    });
    // Auditors read and export; they do not decide. Another tenant sees nothing.
    const ac = await signIn(auditor);
    expect((await ac.get(`/api/v1/admin/access-reviews/${review.id}`)).status).toBe(200);
    expect(
      (await ac.post(`/api/v1/admin/access-reviews/${next.id}/items/${keep.id}`, { decision: 'confirmed' })).body.error.code,
    ).toBe('auth.forbidden');
    const stranger = await member(await newTenant(), 'tenant_admin');
    expect((await stranger.client.get(`/api/v1/admin/access-reviews/${review.id}`)).body.error.code).toBe('review.not_found');
    const actions = (await k.services.auditRepository.latestEvents(t.id, 40)).map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'access_review.started',
        'access_review.decided',
        'access_review.signed_off',
        'access_review.exported',
      ]),
    );
  });

  it('keeps operators out of tenant data unless a tenant admin approves a time-limited grant [AC-07]', async () => {
    const t = await newTenant();
    const admin = await member(t, 'tenant_admin');
    const op = await member({ slug: 'system', id: SYSTEM_TENANT_ID }, 'operator', 'ops-yamada');
    const oc = await signIn(op);
    const into = (method: string, url: string, body?: unknown) => oc.req(method, url, body, { 'x-kura-support-tenant': t.slug });
    expect((await oc.get('/api/v1/admin/users')).body.error.code).toBe('route.not_found');
    expect((await into('GET', '/api/v1/admin/users')).body.error.code).toBe('route.not_found');
    const asked = await oc.post('/api/v1/operator/support-grants', {
      tenant: t.slug,
      reason: '問い合わせ #1234 の調査のため',
      durationMinutes: 60,
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    expect((await into('GET', '/api/v1/admin/users')).status).toBe(404); // requested, not approved
    expect(await lastEvent(t.id)).toMatchObject({ action: 'support.requested', actor_type: 'operator', actor_id: op.id });
    const ac = await signIn(admin);
    await ac.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    nextStep();
    const listed = (await ac.get('/api/v1/admin/support-grants')).body.grants;
    expect(listed[0]).toMatchObject({ id: asked.body.id, state: 'requested', reason: '問い合わせ #1234 の調査のため' });
    expect((await ac.post(`/api/v1/admin/support-grants/${asked.body.id}/approve`)).body).toMatchObject({ state: 'approved' });
    const seen = await into('GET', '/api/v1/admin/users');
    expect(seen.status).toBe(200);
    expect(seen.body.users.map((u: { loginId: string }) => u.loginId)).toContain(admin.login);
    expect(await lastEvent(t.id)).toMatchObject({ action: 'support.accessed', actor_type: 'operator', actor_id: op.id });
    expect(
      (await into('POST', '/api/v1/admin/users', { loginId: 'sneaky', displayName: 'x', role: 'staff' })).body.error.code,
    ).toBe('auth.forbidden');
    // The tenant's address rules hold for the operator as well (here: the auditor role's own rule).
    const open = await k.services.tenantPolicy.get(t.id);
    await k.services.tenantPolicy.update(systemActor(t.id), {
      ...open,
      ipRules: [{ zone: 'lgwan', roles: ['auditor'], cidrs: ['10.20.30.0/24'] }],
    });
    const outside = await into('GET', '/api/v1/admin/users');
    expect([outside.status, outside.body.error.code]).toEqual([403, 'tenant.ip_denied']);
    expect(await lastEvent(t.id)).toMatchObject({ action: 'tenant.ip_denied', actor_type: 'operator', actor_id: op.id });
    await k.services.tenantPolicy.update(systemActor(t.id), open);
    expect((await into('GET', '/api/v1/admin/users')).status).toBe(200);
    clock.advance(61 * 60_000);
    const later = await signIn(op); // the old session idled out meanwhile
    expect((await later.req('GET', '/api/v1/admin/users', undefined, { 'x-kura-support-tenant': t.slug })).status).toBe(404); // grant expired
    const again = await (
      await signIn(op)
    ).post('/api/v1/operator/support-grants', { tenant: t.slug, reason: '再調査が必要になったため', durationMinutes: 240 });
    const ac2 = await signIn(admin);
    await ac2.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    nextStep();
    await ac2.post(`/api/v1/admin/support-grants/${again.body.id}/approve`);
    const oc2 = await signIn(op);
    expect((await oc2.req('GET', '/api/v1/admin/users', undefined, { 'x-kura-support-tenant': t.slug })).status).toBe(200);
    expect((await ac2.post(`/api/v1/admin/support-grants/${again.body.id}/revoke`)).body.state).toBe('revoked');
    expect((await oc2.req('GET', '/api/v1/admin/users', undefined, { 'x-kura-support-tenant': t.slug })).status).toBe(404);
    // Admins are not operators, and no tenant can create one.
    expect(
      (await ac2.post('/api/v1/operator/support-grants', { tenant: t.slug, reason: 'self-service attempt', durationMinutes: 60 }))
        .status,
    ).toBe(403);
    expect(
      (await ac2.post('/api/v1/admin/users', { loginId: 'fake-op', displayName: 'x', role: 'operator' })).body.error.code,
    ).toBe('request.invalid');
  });

  it('enrols a passkey as the second factor and signs in with it; refuses a replayed challenge or another origin [AC-09]', async () => {
    const t = await newTenant();
    const url = await createUserWithLink(
      k.services,
      t.id,
      { loginId: 'passkey-user', displayName: 'パスキー', role: 'staff' },
      'test',
    );
    const origin = k.services.publicBaseUrl('lgwan');
    const device = new SoftAuthenticator(new URL(origin).origin);
    const c = new Client(lgwan);
    expect(
      (
        await c.post('/api/v1/auth/setup/complete', {
          token: tokenOf(url),
          password: GOOD_PASSWORD,
          confirmPassword: GOOD_PASSWORD,
        })
      ).body.next,
    ).toBe('mfa_enroll');
    const regOpts = (await c.post('/api/v1/auth/webauthn/register/options')).body;
    expect(regOpts.pubKeyCredParams.map((x: { alg: number }) => x.alg)).toEqual([-7, -257]);
    expect(regOpts.rp.id).toBe('localhost');
    const reg = await c.post('/api/v1/auth/webauthn/register/verify', { credential: device.create(regOpts), name: '業務PC' });
    expect(reg.status, JSON.stringify(reg.body)).toBe(200);
    expect(reg.body.next).toBe('done');
    expect(reg.body.recoveryCodes).toHaveLength(10);
    expect((await c.get('/api/v1/me')).body.mfa).toMatchObject({ passkeys: 1, totp: false });

    const s = new Client(lgwan);
    expect(
      (await s.post('/api/v1/auth/login', { tenant: t.slug, login: 'passkey-user', password: GOOD_PASSWORD })).body.next,
    ).toBe('mfa');
    const authOpts = (await s.post('/api/v1/auth/webauthn/authenticate/options')).body;
    const phished = await s.post('/api/v1/auth/webauthn/authenticate/verify', {
      credential: device.get(authOpts, 'https://kura-login.example.com'),
    });
    expect(phished.body.error.code).toBe('auth.mfa_invalid');
    const opts2 = (await s.post('/api/v1/auth/webauthn/authenticate/options')).body;
    const assertion = device.get(opts2);
    expect((await s.post('/api/v1/auth/webauthn/authenticate/verify', { credential: assertion })).body.next).toBe('done');
    expect((await s.get('/api/v1/me')).status).toBe(200);
    // Step-up needs the passkey too: the password alone is one factor.
    clock.advance(11 * 60_000);
    await s.get('/api/v1/me');
    expect((await s.get('/api/v1/me')).body.session.stepUpValidUntil).toBeNull();
    const stepPw = await s.post('/api/v1/auth/step-up', { password: GOOD_PASSWORD });
    expect(stepPw.body.error.code).toBe('auth.mfa_invalid');
    const stepOpts = (await s.post('/api/v1/auth/webauthn/authenticate/options')).body;
    expect((await s.post('/api/v1/auth/webauthn/authenticate/verify', { credential: device.get(stepOpts) })).body.next).toBe(
      'done',
    );
    expect((await s.get('/api/v1/me')).body.session.stepUpValidUntil).not.toBeNull();
    const replay = new Client(lgwan);
    await replay.post('/api/v1/auth/login', { tenant: t.slug, login: 'passkey-user', password: GOOD_PASSWORD });
    await replay.post('/api/v1/auth/webauthn/authenticate/options');
    expect((await replay.post('/api/v1/auth/webauthn/authenticate/verify', { credential: assertion })).body.error.code).toBe(
      'auth.mfa_invalid',
    );
    const events = (await k.services.auditRepository.latestEvents(t.id, 12)).map((e) => [e.action, e.reason]);
    expect(events).toContainEqual(['auth.mfa_failed', 'webauthn_invalid']);
    expect(events).toContainEqual(['auth.mfa_verified', null]);
  });

  it('opens the quarterly access review one period after the tenant starts, then one period after each review [AC-04]', async () => {
    const t = await newTenant();
    await member(t, 'tenant_admin');
    const run = () =>
      k.services.jobHandlers['identity.access_review_due']!({
        id: 'j',
        kind: 'identity.access_review_due',
        tenantId: null,
        payload: {},
        attempts: 1,
        maxAttempts: 1,
        lockedUntil: '',
      });
    const reviews = async () => (await k.services.accessReviews.list(t.id)).length;
    await run();
    expect(await reviews()).toBe(0); // a new tenant has nothing to review yet
    clock.advance(92 * 86_400_000);
    await run();
    await run();
    expect(await reviews()).toBe(1);
  });

  it('resets a user’s MFA: sessions end, the user enrols again and is told at the next sign-in [AC-09]', async () => {
    const t = await newTenant();
    const admin = await member(t, 'tenant_admin');
    const m = await member(t);
    const live = await signIn(m);
    const ac = await signIn(admin);
    await ac.post('/api/v1/auth/step-up', { code: code(admin.secret!) });
    nextStep();
    expect((await ac.post(`/api/v1/admin/users/${m.id}/reset-mfa`)).body.user.mfaEnrolled).toBe(false);
    expect((await live.get('/api/v1/me')).status).toBe(401);
    expect(await lastEvent(t.id)).toMatchObject({ action: 'auth.mfa_reset', actor_id: admin.id, target_id: m.id });
    const c = new Client(lgwan);
    expect((await c.post('/api/v1/auth/login', { tenant: t.slug, login: m.login, password: m.password })).body.next).toBe(
      'mfa_enroll',
    );
    const secret = Buffer.from(Secret.fromBase32((await c.post('/api/v1/auth/mfa/totp/enroll')).body.secret).buffer);
    expect((await c.post('/api/v1/auth/mfa/totp/confirm', { code: code(secret) })).body.next).toBe('done');
    nextStep();
    expect((await c.get('/api/v1/me')).body.mfaResetSinceLastLogin).toBe(true);
    const later = await signIn({ ...m, secret });
    expect((await later.get('/api/v1/me')).body.mfaResetSinceLastLogin).toBe(false);
  });

  /** Switches API tokens on for the LGWAN zone (AC-06). */
  async function allowTokens(tenantId: TenantId, extra: Record<string, unknown> = {}): Promise<void> {
    const s = await k.services.tenantPolicy.get(tenantId);
    await k.services.tenantPolicy.update(systemActor(tenantId), {
      ...s,
      ...extra,
      features: { ...s.features, lgwan: { ...s.features.lgwan, api_tokens: true } },
    });
  }

  /** A new `me:read` API token of `m`, created from a fresh session after a step-up. */
  async function tokenFor(m: Member): Promise<string> {
    const c = await signIn(m);
    expect((await c.post('/api/v1/auth/step-up', { code: code(m.secret!) })).status).toBe(204);
    nextStep();
    const r = await c.post('/api/v1/me/tokens', { name: 'sync', scopes: ['me:read'] });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.token as string;
  }

  const bearerMe = (token: string) => lgwan.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });

  async function stepUp(c: Client, m: Member): Promise<void> {
    expect((await c.post('/api/v1/auth/step-up', { code: code(m.secret!) })).status).toBe(204);
    nextStep();
  }

  async function eventDetails(tenantId: string, action: string): Promise<Record<string, unknown>> {
    const e = (await k.services.auditRepository.latestEvents(tenantId, 10)).find((x) => x.action === action);
    expect(e, action).toBeDefined();
    return JSON.parse(e!.details) as Record<string, unknown>;
  }

  it('ends a user’s API tokens with every compromise response: admin password-change demand, MFA reset, suspension, password change and reset [AC-15] [HR-07] [AC-16]', async () => {
    const t = await newTenant();
    await allowTokens(t.id);
    const admin = await member(t, 'tenant_admin');
    const ac = await signIn(admin);
    const adminActions = [
      ['require-password-change', 'user.password_change_required'],
      ['reset-mfa', 'auth.mfa_reset'],
      ['suspend', 'user.suspended'],
    ] as const;
    for (const [action, event] of adminActions) {
      const m = await member(t);
      const token = await tokenFor(m);
      expect((await bearerMe(token)).statusCode).toBe(200);
      await stepUp(ac, admin);
      const r = await ac.post(`/api/v1/admin/users/${m.id}/${action}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect((await bearerMe(token)).statusCode, action).toBe(401);
      expect(await eventDetails(t.id, event)).toMatchObject({ tokensRevoked: 1 });
      if (action === 'suspend') {
        // Reactivating the account does not bring the token back.
        expect((await ac.post(`/api/v1/admin/users/${m.id}/reactivate`)).status).toBe(200);
        expect((await bearerMe(token)).statusCode).toBe(401);
      }
    }

    // The user changes the password: every token ends with the old password.
    const own = await member(t);
    const ownToken = await tokenFor(own);
    const oc = await signIn(own);
    const changed = await oc.post('/api/v1/auth/password', {
      currentPassword: own.password,
      newPassword: 'maple-orbit-canyon',
      confirmPassword: 'maple-orbit-canyon',
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect((await bearerMe(ownToken)).statusCode).toBe(401);
    expect(await eventDetails(t.id, 'auth.password_changed')).toMatchObject({ tokensRevoked: 1 });

    // A password reset through a setup link.
    const reset = await member(t);
    const resetToken = await tokenFor(reset);
    await stepUp(ac, admin);
    const link = await ac.post(`/api/v1/admin/users/${reset.id}/setup-link`);
    expect(link.status, JSON.stringify(link.body)).toBe(200);
    const done = await new Client(lgwan).post('/api/v1/auth/setup/complete', {
      token: tokenOf(link.body.setupUrl),
      password: 'lantern-cobalt-meadow',
      confirmPassword: 'lantern-cobalt-meadow',
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect((await bearerMe(resetToken)).statusCode).toBe(401);
    expect(await eventDetails(t.id, 'user.setup_completed')).toMatchObject({ purpose: 'reset', tokensRevoked: 1 });
  });

  it('refuses API tokens while their owner’s password has expired [AC-15] [AC-17]', async () => {
    const t = await newTenant();
    const base = await k.services.tenantPolicy.get(t.id);
    await allowTokens(t.id, { password: { ...base.password, validityDays: 30 } });
    const m = await member(t);
    const token = await tokenFor(m);
    expect((await bearerMe(token)).statusCode).toBe(200);
    clock.advance(31 * 86_400_000);
    const r = await bearerMe(token);
    expect(r.statusCode).toBe(403);
    expect(r.json().error.code).toBe('auth.password_change_required');
  });

  it('a revoking review decision suspends in the same step as it is recorded; a user outside the review is 404 and stays active [AC-04] [HR-07]', async () => {
    const t = await newTenant();
    await allowTokens(t.id);
    const admin = await member(t, 'tenant_admin');
    const listed = await member(t);
    const listedToken = await tokenFor(listed);
    const c = await signIn(admin);
    await stepUp(c, admin);
    const review = await c.post('/api/v1/admin/access-reviews');
    expect(review.status, JSON.stringify(review.body)).toBe(201);
    const late = await member(t); // joins after the snapshot
    const outside = await c.post(`/api/v1/admin/access-reviews/${review.body.id}/items/${late.id}`, { decision: 'revoked' });
    expect([outside.status, outside.body.error.code]).toEqual([404, 'user.not_found']);
    expect((await late.client.get('/api/v1/me')).status).toBe(200);
    expect(await k.services.auditRepository.countByAction(t.id, 'user.suspended')).toBe(0);

    expect(
      (await c.post(`/api/v1/admin/access-reviews/${review.body.id}/items/${listed.id}`, { decision: 'revoked' })).status,
    ).toBe(204);
    expect((await listed.client.get('/api/v1/me')).status).toBe(401);
    expect((await bearerMe(listedToken)).statusCode).toBe(401);
    const ev = await k.services.auditRepository.latestEvents(t.id, 2);
    expect(ev.map((e) => [e.action, e.target_id])).toEqual([
      ['access_review.decided', listed.id],
      ['user.suspended', listed.id],
    ]);
  });

  it('under the two-person rule a reset link for another admin waits for a second admin, who receives it, never the requester [AC-01]', async () => {
    const t = await newTenant({ twoPersonRule: true });
    const a = await member(t, 'tenant_admin');
    const b = await member(t, 'tenant_admin');
    const c = await member(t, 'tenant_admin');
    const staff = await member(t);
    const ac = await signIn(a);
    await stepUp(ac, a);
    const held = await ac.post(`/api/v1/admin/users/${b.id}/setup-link`);
    expect(held.status, JSON.stringify(held.body)).toBe(200);
    expect(held.body.setupUrl).toBeUndefined();
    expect(held.body.user).toMatchObject({ id: b.id, linkRequestedBy: a.id });
    expect(await lastEvent(t.id)).toMatchObject({ action: 'user.setup_link_requested', actor_id: a.id, target_id: b.id });
    // Asking again or approving it oneself does not hand the link over.
    expect((await ac.post(`/api/v1/admin/users/${b.id}/setup-link`)).body.setupUrl).toBeUndefined();
    const self = await ac.post(`/api/v1/admin/users/${b.id}/approve`);
    expect([self.status, self.body.error.code]).toEqual([409, 'user.self_approval']);
    // A staff member's link is not held, nor an admin's own.
    expect((await ac.post(`/api/v1/admin/users/${staff.id}/setup-link`)).body.setupUrl).toMatch(/#token=/);
    expect((await (await signIn(b)).get('/api/v1/me')).status).toBe(200); // nothing happened to B yet

    const cc = await signIn(c);
    await stepUp(cc, c);
    const listed = (await cc.get('/api/v1/admin/users')).body.users.find((u: { id: string }) => u.id === b.id);
    expect(listed.linkRequestedBy).toBe(a.id);
    const approved = await cc.post(`/api/v1/admin/users/${b.id}/approve`);
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.setupUrl).toMatch(/^https:\/\/localhost:\d+\/setup#token=[A-Za-z0-9_-]{43}$/);
    expect(approved.body.user).toMatchObject({ state: 'active', linkRequestedBy: null });
    expect(await eventDetails(t.id, 'user.setup_link_approved')).toMatchObject({ requestedBy: a.id, approvedBy: c.id });
    expect((await cc.post(`/api/v1/admin/users/${b.id}/approve`)).body.error.code).toBe('user.invalid_state');
    const done = await new Client(lgwan).post('/api/v1/auth/setup/complete', {
      token: tokenOf(approved.body.setupUrl),
      password: 'lantern-cobalt-meadow',
      confirmPassword: 'lantern-cobalt-meadow',
    });
    expect([done.status, done.body.next]).toEqual([200, 'mfa']);
  });

  it('keeps every tenant chain verifiable after all of this [LOG-02]', async () => {
    for (const t of await k.services.tenants.list()) {
      const r = await k.services.auditVerify.verifyTenant(t.id);
      expect(r.problems, t.slug).toEqual([]);
    }
  });
});

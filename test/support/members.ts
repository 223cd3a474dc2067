/**
 * Tenants and signed-in members for HTTP tests: users are set up through the real setup link (and
 * TOTP when their role needs it), then sign in like a browser with the cookie and CSRF token.
 */
import { Secret } from 'otpauth';
import { expect } from 'vitest';
import { createUserWithLink } from '../../src/app/bootstrap.js';
import type { ManualClock } from '../../src/core/clock.js';
import { systemActor, type TenantId } from '../../src/core/types.js';
import { totpCode } from '../../src/crypto/totp.js';
import type { App } from '../../src/http/server.js';
import type { Role } from '../../src/tenants/tenant-settings.js';
import { Client } from './http-client.js';
import type { TestKura } from './kura.js';

export const GOOD_PASSWORD = 'granite-violet-harbor';

export interface TestTenant {
  slug: string;
  id: TenantId;
}

export interface Member {
  tenant: TestTenant;
  login: string;
  id: string;
  secret: Buffer | null;
  client: Client;
}

export class Members {
  private n = 0;
  constructor(
    private readonly k: TestKura,
    private readonly app: App,
    private readonly clock: ManualClock,
  ) {}

  async tenant(settings?: Record<string, unknown>): Promise<TestTenant> {
    const slug = `city-${++this.n}-${process.pid}`;
    const t = await this.k.services.tenants.create(systemActor(), { slug, displayName: `テスト市${this.n}` });
    if (settings) {
      const current = await this.k.services.tenantPolicy.get(t.id);
      await this.k.services.tenantPolicy.update(systemActor(t.id), { ...current, ...settings });
    }
    return { slug, id: t.id };
  }

  /** A user set up through the real setup link, signed in on `app`. */
  async member(tenant: TestTenant, role: Role = 'staff', login = `u${++this.n}`): Promise<Member> {
    const url = await createUserWithLink(
      this.k.services,
      tenant.id,
      { loginId: login, displayName: `職員 ${login}`, role },
      'test',
    );
    const client = new Client(this.app);
    const done = await client.post('/api/v1/auth/setup/complete', {
      token: new URL(url).hash.replace('#token=', ''),
      password: GOOD_PASSWORD,
      confirmPassword: GOOD_PASSWORD,
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    let secret: Buffer | null = null;
    if (done.body.next === 'mfa_enroll') {
      const enroll = await client.post('/api/v1/auth/mfa/totp/enroll');
      secret = Buffer.from(Secret.fromBase32(enroll.body.secret).buffer);
      const confirm = await client.post('/api/v1/auth/mfa/totp/confirm', { code: this.code(secret) });
      expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
      this.clock.advance(30_000);
    }
    const me = await client.get('/api/v1/me');
    expect(me.status).toBe(200);
    return { tenant, login, id: me.body.user.id, secret, client };
  }

  /** Signs the member in again (a second session, e.g. on the other zone). */
  async signIn(m: Member, app: App = this.app): Promise<Client> {
    const c = new Client(app);
    const r = await c.post('/api/v1/auth/login', { tenant: m.tenant.slug, login: m.login, password: GOOD_PASSWORD });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    if (r.body.next === 'mfa') {
      const v = await c.post('/api/v1/auth/mfa/totp', { code: this.code(m.secret!) });
      expect(v.status, JSON.stringify(v.body)).toBe(200);
      this.clock.advance(30_000);
    }
    return c;
  }

  code(secret: Buffer): string {
    return totpCode(secret, 'SHA256', this.clock.now().getTime());
  }
}

/** A multipart/form-data body with one file part, as a browser sends it. */
export function multipartBody(filename: string, content: Buffer, contentType = 'application/octet-stream') {
  const boundary = `----kura${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
      `Content-Type: ${contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { payload: Buffer.concat([head, content, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}

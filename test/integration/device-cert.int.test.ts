import { request } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithLink } from '../../src/app/bootstrap.js';
import { systemActor, type TenantId } from '../../src/core/types.js';
import { canonicalSerial, generateSelfSignedCertificate } from '../../src/crypto/certificates.js';
import { buildServer, type App } from '../../src/http/server.js';
import { tlsPolicy } from '../../src/http/tls.js';
import { createCa, serialOf, type Issued, type TestCa } from '../support/pki.js';
import { readDeviceCrl } from '../../src/identity/device-policy.js';
import { createTestKura, type TestKura } from '../support/kura.js';

let k: TestKura;
let app: App;
let port: number;
let tenantCa: TestCa;
let otherCa: TestCa;
let tenantId: TenantId;
const PASSWORD = 'granite-violet-harbor';

interface Res {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  cookie?: string;
}

/** A real HTTPS request over TLS, optionally presenting a client certificate. */
function call(
  method: string,
  path: string,
  opts: { body?: unknown; cookie?: string; csrf?: string; device?: Issued } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        rejectUnauthorized: false,
        ...(opts.device ? { cert: opts.device.certPem, key: opts.device.keyPem } : {}),
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(opts.cookie ? { cookie: opts.cookie } : {}),
          ...(opts.csrf ? { 'x-csrf-token': opts.csrf } : {}),
        },
        agent: false,
      },
      (res) => {
        let data = '';
        res.on('data', (d) => (data += d));
        res.on('end', () => {
          const sc = res.headers['set-cookie'];
          resolve({
            status: res.statusCode!,
            body: data ? JSON.parse(data) : null,
            ...(sc ? { cookie: String(sc).split(';')[0] } : {}),
          });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

beforeAll(async () => {
  k = await createTestKura();
  const server = await generateSelfSignedCertificate({
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    days: 2,
  });
  app = await buildServer(k.services, {
    zone: 'lgwan',
    webUi: false,
    serverOptions: {
      https: { ...tlsPolicy(), cert: server.certPem, key: server.keyPem, requestCert: true, rejectUnauthorized: false },
    },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = (app.server.address() as { port: number }).port;
  tenantCa = await createCa('サンプル市 端末認証局');
  otherCa = await createCa('Somewhere Else CA');
  tenantId = (await k.services.tenants.create(systemActor(), { slug: 'device-city', displayName: '端末市' })).id;
  const s = await k.services.tenantPolicy.get(tenantId);
  await k.services.tenantPolicy.update(systemActor(tenantId), {
    ...s,
    mfa: { ...s.mfa, requiredForAll: false },
    deviceCerts: { caPem: tenantCa.certPem, requiredFor: [{ zone: 'lgwan', roles: ['staff'] }] },
  });
  for (const [login, role] of [
    ['kato', 'staff'],
    ['ito', 'auditor'],
  ] as const) {
    const link = await createUserWithLink(k.services, tenantId, { loginId: login, displayName: login, role }, 'test');
    const token = new URL(link).hash.replace('#token=', '');
    // The first password is set from a registered device too: the rule applies to the setup link.
    const clientCert = new X509Certificate((await tenantCa.issue(`setup-${login}`)).certPem).raw;
    await k.services.auth.completeSetup(
      { zone: 'lgwan', ip: '127.0.0.1', userAgent: null, requestId: null, clientCert },
      { token, password: PASSWORD, confirmPassword: PASSWORD },
    );
  }
});
afterAll(async () => {
  await app?.close();
  await k?.close();
});

const login = (user: string, device?: Issued) =>
  call('POST', '/api/v1/auth/login', {
    body: { tenant: 'device-city', login: user, password: PASSWORD },
    ...(device ? { device } : {}),
  });

describe(`device certificates over real TLS on ${process.env.KURA_TEST_DB ?? 'sqlite'} [AC-11]`, () => {
  it('lets a staff member in only with a certificate issued by the tenant’s CA', async () => {
    const device = await tenantCa.issue('端末 PC-0042');
    const ok = await login('kato', device);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    const me = await call('GET', '/api/v1/me', { cookie: ok.cookie!, device });
    expect([me.status, me.body.user.loginId]).toEqual([200, 'kato']);
  });

  it('refuses a missing, foreign, expired, not-yet-valid or server certificate, and audits each refusal', async () => {
    const cases: Array<[string, Issued | undefined, string]> = [
      ['none', undefined, 'device.missing'],
      ['foreign', await otherCa.issue('stranger'), 'device.untrusted'],
      [
        'expired',
        await tenantCa.issue('old', {
          notBefore: new Date(Date.now() - 10 * 86_400_000),
          notAfter: new Date(Date.now() - 86_400_000),
        }),
        'device.expired',
      ],
      [
        'future',
        await tenantCa.issue('early', {
          notBefore: new Date(Date.now() + 86_400_000),
          notAfter: new Date(Date.now() + 10 * 86_400_000),
        }),
        'device.not_yet_valid',
      ],
      // A web server's certificate from the same CA is not a device.
      ['server', await tenantCa.issue('www.city.example.lg.jp', { purposes: ['1.3.6.1.5.5.7.3.1'] }), 'device.not_for_clients'],
    ];
    for (const [name, device, reason] of cases) {
      // The rule names kato's role only: past the right password, the answer is the wrong password's
      // (it must not confirm a guessed password), and the audit event has the reason.
      const r = await login('kato', device);
      expect([r.status, r.body.error.code], name).toEqual([401, 'auth.invalid_credentials']);
      const [ev] = await k.services.auditRepository.latestEvents(tenantId, 1);
      expect(ev, name).toMatchObject({ action: 'tenant.device_denied', outcome: 'denied', reason });
    }
  });

  it('checks every request, not only the login: a session without the device is refused', async () => {
    const device = await tenantCa.issue('端末 PC-0043');
    const ok = await login('kato', device);
    const without = await call('GET', '/api/v1/me', { cookie: ok.cookie! });
    expect([without.status, without.body.error.code]).toEqual([403, 'tenant.device_denied']);
  });

  it('applies the rule only to the roles it names', async () => {
    expect((await login('ito')).status).toBe(200);
  });

  it('refuses a device whose certificate the tenant revoked (a lost terminal), and audits its serial', async () => {
    const lost = await tenantCa.issue('端末 PC-0099（紛失）');
    const kept = await tenantCa.issue('端末 PC-0100');
    expect((await login('kato', lost)).status).toBe(200);
    const serial = new X509Certificate(lost.certPem).serialNumber;
    const s = await k.services.tenantPolicy.get(tenantId);
    // Written as an administrator copies it from the CA's records: colons, lower case, a leading zero.
    const written = `0${serial}`.toLowerCase().replace(/(..)(?=.)/g, '$1:');
    await k.services.tenantPolicy.update(systemActor(tenantId), {
      ...s,
      deviceCerts: { ...s.deviceCerts, revokedSerials: [written] },
    });
    try {
      expect((await k.services.tenantPolicy.get(tenantId)).deviceCerts.revokedSerials).toEqual([serial.replace(/^0+(?=.)/, '')]);
      const r = await login('kato', lost);
      expect([r.status, r.body.error.code]).toEqual([401, 'auth.invalid_credentials']);
      const [ev] = await k.services.auditRepository.latestEvents(tenantId, 1);
      expect(ev).toMatchObject({ action: 'tenant.device_denied', reason: 'device.revoked' });
      expect(JSON.parse(ev!.details)).toMatchObject({ serial });
      expect((await login('kato', kept)).status).toBe(200);
      await expect(
        k.services.tenantPolicy.update(systemActor(tenantId), {
          ...s,
          deviceCerts: { ...s.deviceCerts, revokedSerials: ['not-hex'] },
        }),
      ).rejects.toMatchObject({ code: 'tenant.settings_invalid' });
    } finally {
      await k.services.tenantPolicy.update(systemActor(tenantId), s);
    }
  });

  it("reads the serials a CA's revocation list (CRL) revokes, only from the tenant's CA; for admins only", async () => {
    const lost = await tenantCa.issue('端末 PC-0101（紛失）');
    const stolen = await tenantCa.issue('端末 PC-0102（盗難）');
    const pem = await tenantCa.crl([serialOf(lost.certPem), serialOf(stolen.certPem)]);
    const settings = await k.services.tenantPolicy.get(tenantId);
    const read = await readDeviceCrl(settings, pem);
    expect(read.serials).toEqual([canonicalSerial(serialOf(lost.certPem)), canonicalSerial(serialOf(stolen.certPem))]);
    expect(read.issuer).toContain('サンプル市 端末認証局');
    expect(Date.parse(read.nextUpdate!)).toBeGreaterThan(Date.now());
    // The same list as DER in base64 (a .crl file as the page sends it).
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64').toString('base64');
    expect((await readDeviceCrl(settings, der)).serials).toEqual(read.serials);
    // A list from another CA cannot revoke (or be passed off as) the tenant's, unless that CA is the one being entered.
    const foreign = await otherCa.crl(['0A1B']);
    await expect(readDeviceCrl(settings, foreign)).rejects.toMatchObject({ code: 'device.crl_untrusted' });
    expect((await readDeviceCrl(settings, foreign, otherCa.certPem)).serials).toEqual(['A1B']);
    await expect(readDeviceCrl(settings, 'not a CRL at all')).rejects.toMatchObject({ code: 'device.crl_invalid' });
    // A list without nextUpdate would read as revoking nothing: refused instead.
    await expect(readDeviceCrl(settings, await tenantCa.crl(['0A'], { nextUpdate: null }))).rejects.toMatchObject({
      code: 'device.crl_invalid',
    });
    // Signed with the CA's key but naming another issuer: not the CA's list.
    await expect(
      readDeviceCrl(settings, await tenantCa.crl(['0A'], { issuer: 'CN=Totally Different CA' })),
    ).rejects.toMatchObject({
      code: 'device.crl_untrusted',
    });
    // A saved file with a byte-order mark and text before the block, as `openssl crl -text` writes it.
    expect((await readDeviceCrl(settings, `\ufeffCertificate Revocation List (CRL):\n    Version 2\n${pem}`)).serials).toEqual(
      read.serials,
    );
    // A municipal CA's list of some thousands of entries.
    const many = Array.from({ length: 3000 }, (_, i) => (0x1000 + i).toString(16));
    expect((await readDeviceCrl(settings, await tenantCa.crl(many))).serials).toHaveLength(3000);
    await expect(readDeviceCrl(settings, tenantCa.certPem)).rejects.toMatchObject({ code: 'device.crl_invalid' });
    // Over HTTP: an auditor may not.
    const ito = await login('ito');
    expect(ito.status).toBe(200);
    const r = await call('POST', '/api/v1/admin/policy/device-crl', {
      cookie: ito.cookie!,
      csrf: ito.body.csrfToken,
      body: { crl: pem },
    });
    expect([r.status, r.body.error.code]).toEqual([403, 'auth.forbidden']);
  });

  it('a rule for every role refuses a missing device before any credential is checked, with its own answer', async () => {
    const s = await k.services.tenantPolicy.get(tenantId);
    await k.services.tenantPolicy.update(systemActor(tenantId), {
      ...s,
      deviceCerts: { ...s.deviceCerts, requiredFor: [{ zone: 'lgwan', roles: [] }] },
    });
    try {
      const guessed = await call('POST', '/api/v1/auth/login', {
        body: { tenant: 'device-city', login: 'nobody-here', password: 'wrong-password-1' },
      });
      expect([guessed.status, guessed.body.error.code]).toEqual([403, 'tenant.device_denied']);
      expect((await login('ito')).body.error.code).toBe('tenant.device_denied');
      expect((await login('ito', await tenantCa.issue('端末 PC-0044'))).status).toBe(200);
    } finally {
      await k.services.tenantPolicy.update(systemActor(tenantId), s);
    }
  });

  it('refuses a settings change that requires certificates without a valid CA', async () => {
    const s = await k.services.tenantPolicy.get(tenantId);
    await expect(
      k.services.tenantPolicy.update(systemActor(tenantId), { ...s, deviceCerts: { caPem: 'not a pem', requiredFor: [] } }),
    ).rejects.toMatchObject({
      code: 'tenant.settings_invalid',
    });
    await expect(
      k.services.tenantPolicy.update(systemActor(tenantId), {
        ...s,
        deviceCerts: { caPem: '', requiredFor: [{ zone: 'internet', roles: [] }] },
      }),
    ).rejects.toMatchObject({ code: 'tenant.settings_invalid' });
  });
});

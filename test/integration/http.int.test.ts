import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Services } from '../../src/app/services.js';
import { SYSTEM_TENANT_ID } from '../../src/core/types.js';
import { openDatabase } from '../../src/db/database.js';
import { buildServer, type App } from '../../src/http/server.js';
import { ReadinessService } from '../../src/monitoring/readiness.service.js';
import { StatusService } from '../../src/monitoring/status.service.js';
import { createTestKura, type TestKura } from '../support/kura.js';

let k: TestKura;
let lgwan: App;
let internet: App;

/** Adds routes that exercise the request path (validation, faults, the database) to an app under test. */
function withProbeRoutes(app: App, services: Services): App {
  app.post('/api/v1/probe/echo', { schema: { body: z.object({ name: z.string().min(1).max(20) }) } }, async (req) => ({
    got: (req.body as { name: string }).name,
    ip: req.ip,
  }));
  app.get('/api/v1/probe/boom', async () => {
    throw new Error('secret internal detail 4711');
  });
  app.get('/api/v1/probe/db', async () => services.database.db.selectFrom('tenants').select('id').execute());
  app.get('/api/v1/probe/ip', async (req) => ({ ip: req.ip, zone: req.zone }));
  return app;
}

async function appFor(services: Services, zone: 'lgwan' | 'internet' = 'lgwan'): Promise<App> {
  const app = withProbeRoutes(await buildServer(services, { zone, webUi: false }), services);
  await app.ready();
  return app;
}

beforeAll(async () => {
  k = await createTestKura();
  k.services.status.markListening('lgwan', true);
  k.services.status.markListening('internet', true);
  lgwan = await appFor(k.services, 'lgwan');
  internet = await appFor(k.services, 'internet');
});
afterAll(async () => {
  await lgwan?.close();
  await internet?.close();
  await k?.close();
});

const EXTERNAL = '203.0.113.5';

/** The test instance's services with another per-client request limit per minute. */
const withRequestLimit = (requestsPerMinute: number) => ({
  ...k.services,
  config: { ...k.services.config, limits: { ...k.services.config.limits, requestsPerMinute } },
});

describe(`HTTP request path on ${process.env.KURA_TEST_DB ?? 'sqlite'}`, () => {
  it('answers /healthz with strict security headers on both zones [TLS-01] [MAL-06]', async () => {
    for (const app of [lgwan, internet]) {
      const res = await app.inject({ method: 'GET', url: '/healthz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok' });
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/https?:|\*/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('sends HSTS on the internet zone only [TLS-01]', async () => {
    expect((await internet.inject('/healthz')).headers['strict-transport-security']).toMatch(/max-age=63072000/);
    expect((await lgwan.inject('/healthz')).headers['strict-transport-security']).toBeUndefined();
  });

  it('shows readiness details only to monitoring addresses [MON-01]', async () => {
    const local = await lgwan.inject({ url: '/readyz' });
    expect(local.statusCode).toBe(200);
    expect(local.json().components.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ['database', true],
      ['blobs', true],
      ['checkpoints', true],
      // The scanner is reported (the test clamd answers) but never decides readiness.
      ['scanner', Boolean(process.env.KURA_TEST_CLAMD)],
    ]);
    const remote = await lgwan.inject({ url: '/readyz', remoteAddress: EXTERNAL });
    expect(remote.statusCode).toBe(200);
    expect(remote.json()).toEqual({ status: 'ready' });
  });

  it('serves Prometheus metrics to monitoring addresses only [MON-01]', async () => {
    await lgwan.inject('/healthz');
    const local = await lgwan.inject('/metrics');
    expect(local.statusCode).toBe(200);
    expect(local.body).toContain('kura_http_request_duration_seconds_bucket');
    expect(local.body).toContain('kura_jobs{state="queued"}');
    const remote = await lgwan.inject({ url: '/metrics', remoteAddress: EXTERNAL });
    expect(remote.statusCode).toBe(403);
    expect(remote.json().error.code).toBe('request.forbidden_address');
  });

  it('reports each zone’s status publicly, naming the zone it was asked through [SC-03] [LG-01]', async () => {
    const res = await internet.inject({ url: '/api/v1/status', remoteAddress: EXTERNAL });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      service: 'kura',
      overall: 'operational',
      zones: [
        { zone: 'lgwan', state: 'operational' },
        { zone: 'internet', state: 'operational' },
      ],
      via: 'internet',
    });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('publishes an OpenAPI 3.1 document generated from the route schemas', async () => {
    const doc = (await lgwan.inject('/api/v1/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/api/v1/status'].get.responses['200'].content['application/json'].schema.properties.zones).toBeDefined();
    expect(doc.paths['/healthz']).toBeDefined();
  });

  it('answers unknown routes and methods with 404 route.not_found and a request id', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/nope'],
      ['DELETE', '/healthz'],
      ['GET', '/../../etc/passwd'],
    ] as const) {
      const res = await lgwan.inject({ method, url });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({
        error: { code: 'route.not_found', message: expect.any(String), requestId: res.headers['x-request-id'] },
      });
    }
  });

  it('turns malformed, mistyped and oversized bodies into stable 4xx codes', async () => {
    const post = (payload: string, contentType: string) =>
      lgwan.inject({ method: 'POST', url: '/api/v1/probe/echo', payload, headers: { 'content-type': contentType } });
    const cases: Array<[string, string, number, string]> = [
      ['{"name": ', 'application/json', 400, 'request.malformed_json'],
      ['', 'application/json', 400, 'request.malformed_json'],
      ['name=x', 'application/x-www-form-urlencoded', 415, 'request.unsupported_media_type'],
      ['{"name": 5}', 'application/json', 400, 'request.invalid'],
      ['{"name": "' + 'x'.repeat(50) + '"}', 'application/json', 400, 'request.invalid'],
      [JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }), 'application/json', 413, 'request.too_large'],
    ];
    for (const [payload, type, status, code] of cases) {
      const res = await post(payload, type);
      expect([res.statusCode, res.json().error.code], `${type} ${payload.slice(0, 20)}`).toEqual([status, code]);
    }
    const ok = await post('{"name":"札幌"}', 'application/json');
    expect(ok.json()).toMatchObject({ got: '札幌' });
  });

  it('names the invalid fields without echoing their values', async () => {
    const res = await lgwan.inject({ method: 'POST', url: '/api/v1/probe/echo', payload: { name: 987654321 } });
    expect(res.json().error.fields).toEqual(['body.name']);
    expect(res.body).not.toContain('987654321');
  });

  it('answers an unexpected error with a bare 500 and records a fault event [LOG-01]', async () => {
    const res = await lgwan.inject('/api/v1/probe/boom');
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('internal.error');
    expect(res.body).not.toContain('4711');
    const [last] = await k.services.auditRepository.latestEvents(SYSTEM_TENANT_ID, 1);
    expect(last).toMatchObject({
      action: 'system.fault',
      outcome: 'error',
      request_id: res.headers['x-request-id'],
      zone: 'lgwan',
    });
    expect(last!.details).not.toContain('4711');
  });

  it('ignores X-Forwarded-For unless the peer is a trusted proxy [AC-10]', async () => {
    const untrusted = await lgwan.inject({
      url: '/api/v1/probe/ip',
      remoteAddress: EXTERNAL,
      headers: { 'x-forwarded-for': '198.51.100.7' },
    });
    expect(untrusted.json().ip).toBe(EXTERNAL);
    const trustingServices = { ...k.services, config: { ...k.services.config, trustedProxies: ['10.0.0.0/8'] } };
    const app = await appFor(trustingServices);
    try {
      const viaProxy = await app.inject({
        url: '/api/v1/probe/ip',
        remoteAddress: '10.1.2.3',
        headers: { 'x-forwarded-for': '198.51.100.7' },
      });
      expect(viaProxy.json().ip).toBe('198.51.100.7');
      const spoofed = await app.inject({
        url: '/api/v1/probe/ip',
        remoteAddress: EXTERNAL,
        headers: { 'x-forwarded-for': '127.0.0.1' },
      });
      expect(spoofed.json().ip).toBe(EXTERNAL);
      // A spoofed loopback address through an untrusted peer does not unlock monitoring.
      const metrics = await app.inject({ url: '/metrics', remoteAddress: EXTERNAL, headers: { 'x-forwarded-for': '127.0.0.1' } });
      expect(metrics.statusCode).toBe(403);
    } finally {
      await app.close();
    }
  });

  it('rate-limits a client with 429 request.rate_limited', async () => {
    const app = await appFor(withRequestLimit(10));
    try {
      const codes: number[] = [];
      for (let i = 0; i < 12; i++)
        codes.push((await app.inject({ url: '/api/v1/status', remoteAddress: '198.51.100.9' })).statusCode);
      expect(codes.slice(0, 10).every((c) => c === 200)).toBe(true);
      const res = await app.inject({ url: '/api/v1/status', remoteAddress: '198.51.100.9' });
      expect([res.statusCode, res.json().error.code]).toEqual([429, 'request.rate_limited']);
      // another client is unaffected
      expect((await app.inject({ url: '/api/v1/status', remoteAddress: '198.51.100.10' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('counts requests the authentication refuses (bad tokens, cross-site posts) before they reach it [AC-17]', async () => {
    const app = await appFor(withRequestLimit(10));
    try {
      const codes: number[] = [];
      for (let i = 0; i < 12; i++) {
        const bad = await app.inject({
          url: '/api/v1/me',
          remoteAddress: '198.51.100.20',
          headers: { authorization: `Bearer kura_${'x'.repeat(40)}${i}` },
        });
        codes.push(bad.statusCode);
      }
      expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true);
      expect(codes.slice(10)).toEqual([429, 429]);
      const cross = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '198.51.100.20',
        headers: { 'sec-fetch-site': 'cross-site' },
        payload: {},
      });
      expect([cross.statusCode, cross.json().error.code]).toEqual([429, 'request.rate_limited']);
      expect(Number(cross.headers['retry-after'])).toBeGreaterThan(0);
      // Health probes stay exempt.
      expect((await app.inject({ url: '/healthz', remoteAddress: '198.51.100.20' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('decides on the matched route, so a %-escaped /api/ path gets the same checks [AC-13]', async () => {
    const app = await appFor(k.services);
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/%61pi/v1/auth/login',
        remoteAddress: '198.51.100.21',
        headers: { 'sec-fetch-site': 'cross-site' },
        payload: { tenant: 'x', login: 'y', password: 'z' },
      });
      expect([res.statusCode, res.json().error.code]).toEqual([403, 'auth.csrf_invalid']);
    } finally {
      await app.close();
    }
  });

  it('runs one readiness probe for a flood of /readyz requests from anyone [MON-01]', async () => {
    let pings = 0;
    const counted = Object.assign(Object.create(k.services.database) as typeof k.services.database, {
      ping: async () => {
        pings++;
        await new Promise((r) => setTimeout(r, 50));
        return k.services.database.ping();
      },
    });
    const readiness = new ReadinessService({
      database: counted,
      blobs: k.services.blobStore,
      checkpoints: k.services.checkpointStore,
    });
    const app = await appFor({ ...k.services, readiness });
    try {
      const answers = await Promise.all(
        Array.from({ length: 30 }, () => app.inject({ url: '/readyz', remoteAddress: EXTERNAL })),
      );
      expect(answers.every((a) => a.statusCode === 200)).toBe(true);
      expect(pings).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('answers 503 and stays up while the database is down [MON-01]', async () => {
    const down =
      k.engine === 'postgres'
        ? openDatabase({ url: 'postgres://kura_app@127.0.0.1:1/test' })
        : (() => {
            const d = openDatabase({ url: k.config.paths.database });
            void d.close();
            return d;
          })();
    const readiness = new ReadinessService({
      database: down,
      blobs: k.services.blobStore,
      checkpoints: k.services.checkpointStore,
    });
    const status = new StatusService({ readiness, clock: k.services.clock });
    status.markListening('lgwan', true);
    status.markListening('internet', true);
    const app = await appFor({ ...k.services, database: down, readiness, status });
    try {
      const ready = await app.inject('/readyz');
      expect(ready.statusCode).toBe(503);
      expect(ready.json().components[0]).toMatchObject({ name: 'database', ok: false });
      const q = await app.inject('/api/v1/probe/db');
      expect([q.statusCode, q.json().error.code]).toEqual([503, 'service.unavailable']);
      expect((await app.inject('/api/v1/status')).json().overall).toBe('degraded');
      expect((await app.inject('/healthz')).statusCode).toBe(200);
    } finally {
      await app.close();
      await down.close().catch(() => {});
    }
  });
});

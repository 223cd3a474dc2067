/**
 * Builds the Fastify app of one zone without listening (tests use `inject()`); `listen.ts` adds
 * TLS and the port. Each zone is its own app and listener with its own certificate (LG-01).
 */
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Services } from '../app/services.js';
import { AppError } from '../core/errors.js';
import type { Zone } from '../core/types.js';
import { randomId } from '../crypto/primitives.js';
import { registerHealthRoutes } from '../monitoring/health.routes.js';
import { registerAdminUserRoutes } from '../identity/admin-users.routes.js';
import { registerAuditRoutes } from '../audit/audit.routes.js';
import { installAuth } from '../identity/auth.hooks.js';
import { registerAuthRoutes } from '../identity/auth.routes.js';
import { registerApiTokenRoutes } from '../identity/api-token.routes.js';
import { registerAccessReviewRoutes } from '../identity/access-review.routes.js';
import { registerSupportGrantRoutes } from '../identity/support-grant.routes.js';
import { registerWebAuthnRoutes } from '../identity/webauthn.routes.js';
import { registerGroupRoutes } from '../identity/groups.routes.js';
import { registerFileRoutes } from '../files/files.routes.js';
import { registerTusRoutes } from '../files/tus.routes.js';
import { registerFilesAdminRoutes } from '../files/files-admin.routes.js';
import { registerMalwareRoutes } from '../malware/malware.routes.js';
import { registerMailRoutes } from '../mail/mail.routes.js';
import { registerExchangeRoutes } from '../exchange/exchange.routes.js';
import { registerLabelRoutes } from '../labels/labels.routes.js';
import { installErrorHandler, sendError } from './error-handler.js';
import { RedactingLogController } from './request-log.js';
import { registerWebUi } from './web-ui.js';

export type App = FastifyInstance;

export interface BuildServerOptions {
  zone: Zone;
  /** TLS and other server options when the app will listen; omitted for `inject()` tests. */
  serverOptions?: { https: Record<string, unknown> };
  /** Serve the built web UI (default true when it exists). */
  webUi?: boolean;
}

/** HSTS for the internet zone (TLS-01): two years, subdomains included. */
const HSTS_MAX_AGE_S = 63_072_000;

export async function buildServer(services: Services, opts: BuildServerOptions): Promise<App> {
  const { config } = services;
  const app = Fastify({
    ...((opts.serverOptions ?? {}) as FastifyServerOptions),
    loggerInstance: services.logger.child({ zone: opts.zone }) as FastifyBaseLogger,
    genReqId: () => randomId(),
    logController: new RedactingLogController(),
    requestIdHeader: false,
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    bodyLimit: config.limits.jsonBodyBytes,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('zone', opts.zone);
  app.addHook('onRequest', async (request, reply) => {
    request.zone = opts.zone;
    reply.header('x-request-id', request.id);
  });
  installErrorHandler(app, services);

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: opts.zone === 'internet' ? { maxAge: HSTS_MAX_AGE_S, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  await app.register(rateLimit, {
    // Not per route: the plugin's route hooks would run after the authentication hook, and a request
    // that hook refuses (a bad token, an address outside the tenant's rules: each an audit event)
    // would never be counted. Routes with their own limit (sign-in attempts) keep it on top.
    global: false,
    max: config.limits.requestsPerMinute,
    timeWindow: 60_000,
    errorResponseBuilder: () => new AppError('request.rate_limited'),
  });
  const perClient = app.createRateLimit({ max: config.limits.requestsPerMinute, timeWindow: 60_000 });
  app.addHook('onRequest', async (request, reply) => {
    // Health probes are exempt (load balancers); everything else is counted before anything else runs.
    if (request.routeOptions.config?.rateLimit === false) return;
    const limit = await perClient(request);
    if (limit.isAllowed || !limit.isExceeded) return; // isAllowed: on the plugin's allow-list (none here)
    reply.header('retry-after', String(limit.ttlInSeconds));
    throw new AppError('request.rate_limited');
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Kura API', version: '1', description: 'Kura (蔵) secure file storage and exchange' },
      components: {
        securitySchemes: {
          sessionCookie: {
            type: 'apiKey',
            in: 'cookie',
            name: '__Host-kura',
            description:
              'Server-side session set by /api/v1/auth/login or /api/v1/auth/setup/complete (Secure, HttpOnly, SameSite=Strict).',
          },
          bearerToken: {
            type: 'http',
            scheme: 'bearer',
            description:
              'Personal API token (kura_…), scoped and expiring (AC-15); only routes that name a scope accept it; no CSRF token needed.',
          },
          csrfToken: {
            type: 'apiKey',
            in: 'header',
            name: 'X-CSRF-Token',
            description:
              "CSRF protection: every POST, PUT, PATCH and DELETE made with a session cookie must send the session's csrfToken (returned by login, setup and GET /api/v1/me) in this header; otherwise 403 auth.csrf_invalid. Requests without a session are refused when the browser marks them Sec-Fetch-Site: cross-site.",
          },
        },
      },
    },
    transform: jsonSchemaTransform,
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/api/') || request.url.startsWith('/healthz') || request.url.startsWith('/readyz')) {
      reply.header('cache-control', 'no-store');
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    services.metrics.httpDuration.observe(
      { method: request.method, route, status: String(reply.statusCode), zone: opts.zone },
      reply.elapsedTime / 1000,
    );
  });

  await installAuth(app, services);
  await registerHealthRoutes(app, services);
  await registerAuthRoutes(app, services);
  await registerAdminUserRoutes(app, services);
  await registerApiTokenRoutes(app, services);
  await registerAccessReviewRoutes(app, services);
  await registerSupportGrantRoutes(app, services);
  await registerWebAuthnRoutes(app, services);
  await registerGroupRoutes(app, services);
  await registerFileRoutes(app, services);
  await registerTusRoutes(app, services);
  await registerFilesAdminRoutes(app, services);
  await registerMalwareRoutes(app, services);
  await registerMailRoutes(app, services);
  await registerExchangeRoutes(app, services);
  await registerLabelRoutes(app, services);
  await registerAuditRoutes(app, services);
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  const servesUi = opts.webUi !== false && (await registerWebUi(app));
  app.setNotFoundHandler(async (request, reply) => {
    if (servesUi && request.method === 'GET' && !request.url.startsWith('/api/') && acceptsHtml(request.headers.accept)) {
      return reply.type('text/html; charset=utf-8').sendFile('index.html');
    }
    return sendError(reply, request, 'route.not_found');
  });
  return app;
}

function acceptsHtml(accept: string | undefined): boolean {
  return typeof accept === 'string' && accept.includes('text/html');
}

/**
 * The one error handler (design §3.6): AppError codes map to their fixed status and the body
 * `{ error: { code, message, requestId } }`; framework errors map to stable `request.*` codes;
 * a database outage is 503; anything else is a 500 with no detail and a fault event.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError } from 'zod';
import { AppError, ERROR_CODES, isAppError, type ErrorCode } from '../core/errors.js';
import { SYSTEM_TENANT_ID } from '../core/types.js';
import { isDatabaseUnavailable } from '../db/database.js';
import type { Services } from '../app/services.js';
import { actorOf } from './request-context.js';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; fields?: string[]; reasons?: string[] };
}

export function sendError(
  reply: FastifyReply,
  request: FastifyRequest,
  code: ErrorCode,
  fields?: string[],
  reasons?: string[],
): FastifyReply {
  const body: ErrorBody = { error: { code, message: ERROR_CODES[code].message, requestId: request.id } };
  if (fields && fields.length) body.error.fields = fields;
  if (reasons && reasons.length) body.error.reasons = reasons;
  // A download that failed before its first byte (a blob failing its check) had set the file's headers.
  for (const name of Object.keys(reply.getHeaders()))
    if (DOWNLOAD_HEADERS.has(name) || name.startsWith('x-kura-')) reply.removeHeader(name);
  return reply
    .code(ERROR_CODES[code].status)
    .header('cache-control', 'no-store')
    .type('application/json; charset=utf-8')
    .send(body);
}

const DOWNLOAD_HEADERS = new Set(['content-length', 'content-disposition', 'content-range', 'etag', 'accept-ranges']);

const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request.too_large',
  FST_ERR_CTP_INVALID_JSON_BODY: 'request.malformed_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'request.malformed_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request.invalid',
  FST_ERR_VALIDATION: 'request.invalid',
};

export function classify(err: FastifyError | Error): ErrorCode | null {
  if (isAppError(err)) return err.code;
  const e = err as FastifyError;
  if (e.code && FRAMEWORK_CODES[e.code]) return FRAMEWORK_CODES[e.code]!;
  // A handler that parses request data itself (headers, params) and finds it invalid.
  if (err instanceof ZodError) return 'request.invalid';
  if (e.statusCode === 400 && err instanceof SyntaxError) return 'request.malformed_json';
  if (e.statusCode === 429) return 'request.rate_limited';
  if (e.statusCode === 413) return 'request.too_large';
  if (e.statusCode === 415) return 'request.unsupported_media_type';
  if (e.statusCode === 404) return 'route.not_found';
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return 'request.invalid';
  if (isDatabaseUnavailable(err)) return 'service.unavailable';
  // A blob that fails authentication while a download (or a range of it) streams (TLS-02).
  if (err.name === 'DecryptError') return 'file.integrity_failed';
  return null;
}

export function installErrorHandler(app: FastifyInstance, services: Services): void {
  app.setErrorHandler(async (err: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const fields = err.validation.map((v) => `${err.validationContext ?? 'body'}${v.instancePath.replace(/\//g, '.')}`);
      return sendError(reply, request, 'request.invalid', fields);
    }
    const code = classify(err);
    if (code && code !== 'internal.error' && ERROR_CODES[code].status < 500) {
      return sendError(reply, request, code, undefined, isAppError(err) ? err.reasons : undefined);
    }
    if (code === 'service.unavailable') {
      request.log.warn({ errCode: (err as { code?: string }).code }, 'dependency unavailable');
      return sendError(reply, request, 'service.unavailable');
    }
    // Unknown: 500 with no detail for the client; full error in the log; a fault event (LOG-01 例外処理).
    request.log.error({ err }, 'unhandled error');
    try {
      await services.database.transaction((trx) =>
        services.audit.append(
          trx,
          { ...actorOf(request), tenantId: SYSTEM_TENANT_ID },
          {
            action: 'system.fault',
            outcome: 'error',
            reason: code ?? 'internal.error',
            details: { method: request.method, route: request.routeOptions.url ?? null, error: err.name },
          },
        ),
      );
    } catch (auditErr) {
      request.log.error({ err: auditErr }, 'could not record fault event');
    }
    return sendError(reply, request, code ?? 'internal.error');
  });
}

export { AppError };

/**
 * The closed table of error codes. Every expected failure throws `AppError(code)`; the HTTP error
 * handler maps the code to its fixed status and the body `{ error: { code, message, requestId } }`.
 * The UI translates codes, never server strings, so the message here is English and for operators.
 */
export const ERROR_CODES = {
  // raised by the HTTP layer for malformed requests
  'request.invalid': { status: 400, message: 'The request does not match the schema.' },
  'request.malformed_json': { status: 400, message: 'The request body is not valid JSON.' },
  'request.unsupported_media_type': { status: 415, message: 'The content type is not supported.' },
  'request.too_large': { status: 413, message: 'The request body is too large.' },
  'request.rate_limited': { status: 429, message: 'Too many requests; try again later.' },
  'request.forbidden_address': { status: 403, message: 'This endpoint is not available from your address.' },
  // raised by the router for unknown paths and methods
  'route.not_found': { status: 404, message: 'No such resource.' },
  // raised by tenant lookups; another tenant's object is also this code (AC-08)
  'tenant.not_found': { status: 404, message: 'No such tenant.' },
  'tenant.slug_taken': { status: 409, message: 'A tenant with this slug already exists.' },
  'tenant.slug_reserved': { status: 409, message: 'This slug is reserved.' },
  // raised by the audit log when an append is attempted outside a transaction or the chain is broken
  'audit.chain_broken': { status: 500, message: 'The audit chain is inconsistent.' },
  // raised by the keyring when a tenant key is missing or destroyed
  'crypto.key_unavailable': { status: 500, message: 'A required key is unavailable.' },
  // raised when the database or another dependency is down (never a crash)
  'service.unavailable': { status: 503, message: 'The service is temporarily unavailable.' },
  // raised by the error handler for anything unexpected; no detail leaves the server
  'internal.error': { status: 500, message: 'An internal error occurred.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An expected failure with a stable code. `detail` is for logs and tests, never sent to clients. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, detail?: string) {
    super(detail ? `${code}: ${detail}` : code);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.detail = detail;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

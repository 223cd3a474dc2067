/**
 * Same-origin JSON calls to Kura's API. Failures become an `ApiError` carrying only codes: the
 * server's stable error code (and `reasons`, `fields`) when the body has one, otherwise `network`
 * or `unknown`. The UI turns codes into messages through i18n and never shows text that came from
 * the server.
 *
 * The session lives in the HttpOnly `__Host-kura` cookie, out of reach of scripts. Every
 * state-changing request made while a session exists must carry the session's CSRF token in
 * `X-CSRF-Token`; the token comes from the sign-in and setup replies and from `GET /api/v1/me`, and
 * is kept in memory only (never in storage), so a reload fetches it again from /me.
 */

/** `code` is a server error code (`service.unavailable`, …) or `network` / `unknown`. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly httpStatus: number | null,
    /** Machine-readable reasons (password rejections, invalid setting paths). */
    readonly reasons: readonly string[] = [],
    /** Request fields that failed validation (`body.email`, …). */
    readonly fields: readonly string[] = [],
  ) {
    super(code);
    this.name = 'ApiError';
  }
}

/** The code of any thrown value, `unknown` when it is not an ApiError. */
export function errorCode(err: unknown): string {
  return err instanceof ApiError ? err.code : 'unknown';
}

let csrfToken: string | null = null;

/** Remembers (or forgets, with null) the CSRF token of the current session. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/**
 * The current session's CSRF token, for requests this client does not send itself (tus uploads
 * through tus-js-client); null without a session.
 */
export function currentCsrfToken(): string | null {
  return csrfToken;
}

type Listener = (code: string) => void;
const sessionEndListeners = new Set<Listener>();

/** Called when the server says the session is gone (expired, revoked, signed out elsewhere). */
export function onSessionEnded(listener: Listener): () => void {
  sessionEndListeners.add(listener);
  return () => sessionEndListeners.delete(listener);
}

const SESSION_ENDED_CODES = new Set(['auth.unauthenticated']);

/**
 * Tells the session listeners when an error code means the session is gone. Requests made through
 * this client do it themselves; callers with their own transport (tus uploads) pass their codes here.
 */
export function reportErrorCode(code: string): void {
  if (SESSION_ENDED_CODES.has(code)) for (const listener of sessionEndListeners) listener(code);
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The ApiError of an error reply's body (`unknown` when it carries no code). */
export function errorOf(body: unknown, status: number | null): ApiError {
  if (typeof body !== 'object' || body === null || !('error' in body)) return new ApiError('unknown', status);
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return new ApiError('unknown', status);
  const e = error as { code?: unknown; reasons?: unknown; fields?: unknown };
  // Codes are `capability.reason`; anything else is not a code we could have a message for.
  const code = typeof e.code === 'string' && /^[a-z_]+\.[a-z_]+$/.test(e.code) ? e.code : 'unknown';
  return new ApiError(code, status, stringList(e.reasons), stringList(e.fields));
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

async function request(
  method: Method,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
  tags?: { ifMatch?: string | null; seen?: (etag: string | null) => void },
): Promise<unknown> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  if (tags?.ifMatch) headers['if-match'] = tags.ifMatch;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
      signal: signal ?? null,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError('network', null);
  }
  if (response.status === 204) return null;
  const parsed: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = errorOf(parsed, response.status);
    reportErrorCode(error.code);
    throw error;
  }
  if (parsed === null) throw new ApiError('unknown', response.status);
  tags?.seen?.(response.headers.get('etag'));
  return parsed;
}

/**
 * GET and PUT of a resource edited as a whole (the tenant policy): the GET's ETag goes back as
 * If-Match, so a save made from a page another administrator has since changed is refused (409)
 * instead of silently undoing their change.
 */
export async function getJsonTagged(path: string): Promise<{ body: unknown; etag: string | null }> {
  let etag: string | null = null;
  const body = await request('GET', path, undefined, undefined, { seen: (t) => (etag = t) });
  return { body, etag };
}

export async function putJsonIfMatch(
  path: string,
  body: unknown,
  ifMatch: string | null,
): Promise<{ body: unknown; etag: string | null }> {
  let etag: string | null = null;
  const saved = await request('PUT', path, body, undefined, { ifMatch, seen: (t) => (etag = t) });
  return { body: saved, etag };
}

export function getJson(path: string, signal?: AbortSignal): Promise<unknown> {
  return request('GET', path, undefined, signal);
}

/** POST with an optional JSON body; resolves to null for 204 No Content. */
export function postJson(path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
  return request('POST', path, body, signal);
}

export function putJson(path: string, body: unknown): Promise<unknown> {
  return request('PUT', path, body);
}

/** PATCH with a JSON body (partial updates: rename, move). */
export function patchJson(path: string, body: unknown): Promise<unknown> {
  return request('PATCH', path, body);
}

/** DELETE, with a JSON body when the server asks for one (a reason for removing a quarantined file). */
export function deleteJson(path: string, body?: unknown): Promise<unknown> {
  return request('DELETE', path, body);
}

/** The file name of a Content-Disposition header: RFC 6266 `filename*` (UTF-8, Japanese names) first. */
function dispositionName(disposition: string): string | null {
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1];
  if (extended) {
    try {
      return decodeURIComponent(extended.trim());
    } catch {
      // Malformed escapes: fall back to the plain parameter.
    }
  }
  return /filename="([^"]+)"/.exec(disposition)?.[1] ?? null;
}

/**
 * Downloads a file from the API (an export): fetched with the session like any call, so failures
 * become ApiErrors (step-up can be asked for and the call retried), then saved through an object
 * URL — the CSP allows same-origin only, and blob: URLs of this origin count as such for downloads.
 * Answers the bytes' first characters' blob for callers that want to check it.
 */
export async function downloadFile(path: string, fallbackName: string): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(path, { headers: { accept: '*/*' }, cache: 'no-store', credentials: 'same-origin' });
  } catch {
    throw new ApiError('network', null);
  }
  if (!response.ok) {
    const error = errorOf(await response.json().catch(() => null), response.status);
    reportErrorCode(error.code);
    throw error;
  }
  const blob = await response.blob();
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = dispositionName(disposition) ?? fallbackName;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return blob;
}

/**
 * Same-origin JSON calls to Kura's API. Failures become an `ApiError` carrying only a code: the
 * server's stable error code when the body has one, otherwise `network` or `unknown`. The UI turns
 * the code into a message through i18n and never shows text that came from the server.
 */

/** `code` is a server error code (`service.unavailable`, …) or `network` / `unknown`. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly httpStatus: number | null,
  ) {
    super(code);
    this.name = 'ApiError';
  }
}

function errorCodeOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || !('error' in body)) return null;
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null || !('code' in error)) return null;
  const code = (error as { code: unknown }).code;
  // Codes are `capability.reason`; anything else is not a code we could have a message for.
  return typeof code === 'string' && /^[a-z_]+\.[a-z_]+$/.test(code) ? code : null;
}

export async function getJson(path: string, signal?: AbortSignal): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: 'GET',
      headers: { accept: 'application/json' },
      cache: 'no-store',
      credentials: 'same-origin',
      signal: signal ?? null,
    });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError('network', null);
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(errorCodeOf(body) ?? 'unknown', response.status);
  if (body === null) throw new ApiError('unknown', response.status);
  return body;
}

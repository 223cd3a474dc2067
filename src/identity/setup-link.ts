/** One-time setup links (AC-16): a random token, only its hash stored, valid 72 hours, used once. */
export const SETUP_LINK_TTL_MS = 72 * 3_600_000;

/** The URL a person opens; the token is in the fragment so it never reaches a server log or a Referer. */
export function setupUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/$/, '')}/setup#token=${token}`;
}

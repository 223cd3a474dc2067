import type { Page } from 'playwright-core';

/**
 * Makes the next request to `url` (a glob; only `method` requests when given) answer 403
 * `auth.step_up_required`, as the server does once the tenant's step-up minutes have passed: the UI
 * must then ask for a fresh verification and retry.
 */
export async function askStepUpOnce(page: Page, url: string, method?: string): Promise<void> {
  await page.route(
    url,
    (route) =>
      method && route.request().method() !== method
        ? route.fallback()
        : route.fulfill({
            status: 403,
            contentType: 'application/json',
            body: JSON.stringify({ error: { code: 'auth.step_up_required', message: 'x', requestId: 'r' } }),
          }),
    { times: 1 },
  );
}

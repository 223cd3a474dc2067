/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser). The flags keep the
 * browser itself from calling home, so every request a test sees comes from the page.
 */
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** `extraArgs`: e.g. `--ignore-certificate-errors-spki-list=…`, which WebAuthn needs (it refuses pages with certificate errors). */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}

/** A fresh context (empty localStorage) trusting Kura's self-signed certificates. */
export function newContext(browser: Browser, locale = 'ja-JP'): Promise<BrowserContext> {
  return browser.newContext({ ignoreHTTPSErrors: true, locale, timezoneId: 'Europe/London' });
}

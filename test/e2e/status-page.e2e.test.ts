/**
 * The public status page in a real browser against a real `kura serve` on both zones (LG-01,
 * SC-03): Japanese by default, English on request and remembered, no request to any other host
 * (LG-05, FAC-02), no CSP violation, WCAG 2.1 AA checks by axe-core, keyboard reachable.
 */
import { AxeBuilder } from '@axe-core/playwright';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKura, type RunningKura } from '../support/cli.js';
import { launchChromium, newContext } from './support/browser.js';
import { ensureWebBuilt } from './support/web-ui.js';

type Zone = 'lgwan' | 'internet';

const JA_ZONE = { lgwan: 'LGWAN 系', internet: 'インターネット系' } as const;
const EN_ZONE = { lgwan: 'LGWAN zone', internet: 'Internet zone' } as const;

let dir: string | undefined;
let kura: RunningKura | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  ensureWebBuilt();
  // A fresh working directory: `kura serve` writes kura.yaml into its cwd on first start.
  dir = mkdtempSync(join(tmpdir(), 'kura-e2e-status-'));
  kura = await startKura({ cwd: dir, env: { KURA_DATA_DIR: join(dir, 'data'), KURA_LOG_LEVEL: 'warn' } });
  browser = await launchChromium();
});

afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await kura?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Observed {
  page: Page;
  requests: string[];
  /** Page errors and CSP violations reported on the console. */
  problems: string[];
}

/** A page in a fresh context, recording every request and every script error or CSP violation. */
async function openPage(url: string): Promise<Observed> {
  if (!browser) throw new Error('browser not started');
  const context = await newContext(browser);
  contexts.push(context);
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  return { page, requests, problems };
}

function zoneUrl(zone: Zone): string {
  if (!kura) throw new Error('kura not started');
  return `https://127.0.0.1:${zone === 'lgwan' ? kura.lgwanPort : kura.internetPort}/status`;
}

/** Fails on axe violations of impact serious or critical, listing them. */
async function expectNoSeriousA11yViolations(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = serious.map(
    (v) =>
      `${v.impact} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')} ${n.failureSummary ?? ''}`).join('\n')}`,
  );
  if (report.length) console.error(`axe violations:\n${report.join('\n')}`);
  expect(report).toEqual([]);
}

function expectOnlyLoopbackRequests(requests: string[]): void {
  expect(requests.length).toBeGreaterThan(0);
  const external = requests.filter((u) => {
    const url = new URL(u);
    return url.protocol !== 'data:' && url.hostname !== '127.0.0.1';
  });
  expect(external).toEqual([]);
}

/** HH:MM of an instant in Japan time, as the page must show it whatever the browser's zone. */
function tokyoHourMinute(iso: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Asia/Tokyo',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
}

describe.each<Zone>(['lgwan', 'internet'])('status page on the %s zone', (zone) => {
  it(`shows the status in Japanese by default, naming the ${zone} zone it came through [LG-01] [SC-03]`, async () => {
    const { page, problems } = await openPage(zoneUrl(zone));

    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('サービス稼働状況');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('ja');
    expect(await page.title()).toBe('サービス稼働状況 | 蔵 Kura');

    const overall = page.getByTestId('overall-state');
    await overall.waitFor();
    expect(await overall.getAttribute('data-state')).toBe('operational');
    expect(await overall.textContent()).toContain('すべてのサービスが正常に稼働しています');

    for (const z of ['lgwan', 'internet'] as const) {
      const row = page.getByTestId(`zone-row-${z}`);
      expect(await row.getByRole('rowheader').textContent()).toBe(JA_ZONE[z]);
      expect(await row.getByRole('cell').textContent()).toBe('正常稼働');
    }
    expect(await page.locator('table caption').textContent()).toBe('系統別の稼働状況');

    const via = page.getByTestId('connected-via');
    expect(await via.getAttribute('data-zone')).toBe(zone);
    expect(await via.textContent()).toBe(JA_ZONE[zone]);

    // The browser runs in Europe/London; the page must still show Japan time.
    const checkedAt = page.getByTestId('checked-at');
    const iso = await checkedAt.getAttribute('datetime');
    expect(iso).toBeTruthy();
    const text = (await checkedAt.textContent()) ?? '';
    expect(text).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}（日本時間）$/);
    expect(text).toContain(tokyoHourMinute(iso!));

    expect(problems).toEqual([]);
  });

  it(`switches to English, sets <html lang="en"> and keeps English after a reload [LG-01]`, async () => {
    const { page, problems } = await openPage(zoneUrl(zone));
    await page.getByTestId('overall-state').waitFor();

    const english = page.getByTestId('lang-switch').getByRole('button', { name: 'English' });
    expect(await english.getAttribute('aria-pressed')).toBe('false');
    await english.click();

    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Service status');
    expect(await english.getAttribute('aria-pressed')).toBe('true');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');

    const assertEnglish = async () => {
      expect(await page.getByTestId('overall-state').textContent()).toContain('All services are operating normally');
      for (const z of ['lgwan', 'internet'] as const) {
        const row = page.getByTestId(`zone-row-${z}`);
        expect(await row.getByRole('rowheader').textContent()).toBe(EN_ZONE[z]);
        expect(await row.getByRole('cell').textContent()).toBe('Operational');
      }
      expect(await page.getByTestId('connected-via').textContent()).toBe(EN_ZONE[zone]);
      expect(await page.getByTestId('checked-at').textContent()).toMatch(
        /^\d{1,2} [A-Z][a-z]+ \d{4}.* \d{2}:\d{2}:\d{2} \(Japan Standard Time\)$/,
      );
    };
    await assertEnglish();

    await page.reload();
    await page.getByTestId('overall-state').waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Service status');
    expect(await page.title()).toBe('Service status | Kura');
    await assertEnglish();

    expect(problems).toEqual([]);
  });

  it('meets WCAG 2.1 AA as checked by axe-core in both languages', async () => {
    const { page } = await openPage(zoneUrl(zone));
    await page.getByTestId('overall-state').waitFor();
    await expectNoSeriousA11yViolations(page);

    await page.getByTestId('lang-switch').getByRole('button', { name: 'English' }).click();
    await expect.poll(() => page.evaluate(() => document.documentElement.lang)).toBe('en');
    await expectNoSeriousA11yViolations(page);
  });

  it('loads every asset, fonts included, from Kura itself and from no other host [LG-05] [FAC-02]', async () => {
    const { page, requests, problems } = await openPage(zoneUrl(zone));
    await page.getByTestId('overall-state').waitFor();
    await page.evaluate(() => document.fonts.ready.then(() => undefined));

    expectOnlyLoopbackRequests(requests);
    // The self-hosted Noto Sans JP was actually used (not a system fallback).
    expect(requests.some((u) => /\/assets\/noto-sans-jp-.*\.woff2$/.test(u))).toBe(true);
    expect(await page.evaluate(() => document.fonts.check('16px "Noto Sans JP"', 'サービス稼働状況'))).toBe(true);
    // Any CSP violation (inline script or style) would be reported on the console.
    expect(problems).toEqual([]);
  });
});

describe('status page behaviour', () => {
  it('reaches every control by keyboard with a visible focus indicator', async () => {
    const { page } = await openPage(zoneUrl('lgwan'));
    await page.getByTestId('overall-state').waitFor();

    const reached: Array<{ name: string; outline: string }> = [];
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      reached.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          const style = el ? getComputedStyle(el) : null;
          return {
            name: (el?.textContent ?? '').trim(),
            outline: style ? `${style.outlineStyle} ${style.outlineWidth}` : 'none',
          };
        }),
      );
    }
    const names = reached.map((r) => r.name);
    expect(names[0]).toBe('本文へ移動');
    for (const control of ['日本語', 'English', '最新の状態に更新']) expect(names).toContain(control);
    for (const r of reached.slice(0, names.indexOf('最新の状態に更新') + 1)) {
      expect(r.outline, `focus indicator of "${r.name}"`).toMatch(/^solid [1-9]/);
    }

    // Language buttons and the refresh button are at least 44 px high (WCAG 2.5.5).
    for (const name of ['日本語', 'English', '最新の状態に更新']) {
      const box = await page.getByRole('button', { name }).boundingBox();
      expect(box?.height ?? 0, name).toBeGreaterThanOrEqual(44);
    }
  });

  it('fetches the status again when the refresh button is pressed [SC-03]', async () => {
    const { page, requests } = await openPage(zoneUrl('internet'));
    await page.getByTestId('overall-state').waitFor();
    const calls = () => requests.filter((u) => new URL(u).pathname === '/api/v1/status').length;
    expect(calls()).toBe(1);

    const response = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/status');
    await page.getByRole('button', { name: '最新の状態に更新' }).click();
    expect((await response).status()).toBe(200);
    expect(calls()).toBe(2);
    await expect.poll(() => page.getByRole('button', { name: '最新の状態に更新' }).getAttribute('aria-disabled')).toBeNull();
    expect(await page.getByTestId('overall-state').getAttribute('data-state')).toBe('operational');
  });

  it('shows the translated message for an API error code, never the server text', async () => {
    if (!browser) throw new Error('browser not started');
    const context = await newContext(browser);
    contexts.push(context);
    const page = await context.newPage();
    await page.route('**/api/v1/status', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'service.unavailable', message: 'SERVER TEXT', requestId: 'r1' } }),
      }),
    );
    await page.goto(zoneUrl('lgwan'));
    const error = page.getByTestId('status-error');
    await error.waitFor();
    const text = (await error.textContent()) ?? '';
    expect(text).toContain('稼働状況を取得できませんでした');
    expect(text).toContain('サービスを一時的に利用できません');
    expect(text).not.toContain('SERVER TEXT');
    expect(await page.getByTestId('overall-state').count()).toBe(0);

    // A network failure (no response at all) gets the generic connection message.
    await page.unroute('**/api/v1/status');
    await page.route('**/api/v1/status', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: '最新の状態に更新' }).click();
    await expect.poll(() => error.textContent()).toContain('サーバーに接続できませんでした');
  });
});

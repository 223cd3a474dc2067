/**
 * People in a browser test: a `kura serve` started by the test, users registered with the CLI and
 * set up through their setup link (password + TOTP enrolment), an authenticator app that never
 * reuses a time step, and the page helpers the exchange tests share.
 */
import { Secret } from 'otpauth';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { TOTP_PERIOD_S, totpCode, type TotpAlgorithm } from '../../../src/crypto/totp.js';
import { runKura, type RunningKura } from '../../support/cli.js';
import { newContext } from './browser.js';

export class Authenticator {
  private lastStep = 0;
  constructor(
    private readonly secret: Buffer,
    private readonly algorithm: TotpAlgorithm,
  ) {}

  static async fromEnrolmentPage(page: Page): Promise<Authenticator> {
    const shown = ((await page.getByTestId('totp-secret').textContent()) ?? '').replace(/\s+/g, '');
    const uri = new URL((await page.getByTestId('totp-uri').getAttribute('data-uri')) ?? '');
    return new Authenticator(
      Buffer.from(Secret.fromBase32(shown).buffer),
      (uri.searchParams.get('algorithm') ?? 'SHA1') as TotpAlgorithm,
    );
  }

  async nextCode(): Promise<string> {
    const stepMs = TOTP_PERIOD_S * 1000;
    let current = Math.floor(Date.now() / stepMs);
    if (this.lastStep >= current + 1) {
      await new Promise((r) => setTimeout(r, this.lastStep * stepMs - Date.now() + 100));
      current = Math.floor(Date.now() / stepMs);
    }
    const step = Math.max(current, this.lastStep + 1);
    this.lastStep = step;
    return totpCode(this.secret, this.algorithm, step * stepMs);
  }
}

export interface Person {
  page: Page;
  authenticator: Authenticator;
}

export function field(scope: Page | Locator, label: string): Locator {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return scope.getByLabel(new RegExp(`^${escaped}(※必須)?(（任意）)?$`));
}

export async function expectHeading(page: Page, text: string | RegExp): Promise<void> {
  const heading = () => page.getByRole('heading', { level: 1 }).textContent();
  if (typeof text === 'string') await expect.poll(heading, { timeout: 15_000 }).toBe(text);
  else await expect.poll(heading, { timeout: 15_000 }).toMatch(text);
}

export function nav(page: Page, name: string): Locator {
  return page.getByRole('navigation', { name: 'メインメニュー' }).getByRole('link', { name, exact: true });
}

/** Opens pages in fresh browser contexts (one per person) and collects page errors. */
export class Browsers {
  readonly contexts: BrowserContext[] = [];
  readonly problems: string[] = [];
  constructor(private readonly browser: () => Browser) {}

  async open(url?: string): Promise<Page> {
    const context = await newContext(this.browser());
    this.contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => this.problems.push(`pageerror: ${err.message}`));
    page.on('crash', () => this.problems.push(`page crashed: ${page.url()}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) this.problems.push(message.text());
    });
    if (url) await page.goto(url);
    return page;
  }

  async close(): Promise<void> {
    await Promise.all(this.contexts.map((c) => c.close()));
  }

  /** Sets the password through a setup link and enrols TOTP; ends on the signed-in home page. */
  async setUp(link: string, password: string, displayName: string): Promise<Person> {
    const page = await this.open(link);
    // Several people's windows are open at once; the one being used is brought to the front so
    // Chromium keeps producing its animation frames (Playwright's click waits on them).
    await page.bringToFront();
    await field(page, 'パスワード').fill(password);
    await field(page, 'パスワード（確認）').fill(password);
    await page.getByTestId('password-ok').waitFor();
    await page.getByRole('button', { name: 'パスワードを設定する' }).click();
    await expectHeading(page, '二要素認証の設定');
    const authenticator = await Authenticator.fromEnrolmentPage(page);
    await field(page, '確認コード').fill(await authenticator.nextCode());
    await page.getByRole('button', { name: '設定を完了する' }).click();
    await expectHeading(page, 'リカバリーコードの保管');
    await page.getByLabel('保管しました').check();
    await page.getByRole('button', { name: '次へ進む' }).click();
    await expectHeading(page, `ようこそ、${displayName} さん`);
    return { page, authenticator };
  }
}

/** The setup link printed by `kura serve` or `kura user create`, on the given base URL. */
export function setupLinkIn(output: string, base: string): string {
  const match = /https:\/\/\S+\/setup#token=[A-Za-z0-9_-]+/.exec(output);
  if (!match) throw new Error(`no setup link in:\n${output}`);
  return `${base}/setup${new URL(match[0]).hash}`;
}

/** Registers a user with the CLI (`kura user create`) and returns their setup link. */
export async function createUserLink(
  kura: Pick<RunningKura, 'lgwanPort'>,
  opts: { cwd: string; env: Record<string, string> },
  user: { tenant: string; login: string; role: string; name: string; email?: string },
): Promise<string> {
  const args = ['user', 'create', '--tenant', user.tenant, '--login', user.login, '--role', user.role, '--name', user.name];
  if (user.email) args.push('--email', user.email);
  const created = await runKura(args, opts);
  expect(created.code, created.stderr).toBe(0);
  return setupLinkIn(created.stdout, `https://127.0.0.1:${kura.lgwanPort}`);
}

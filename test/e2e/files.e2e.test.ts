/**
 * Files in a real browser against a real `kura serve` with the job worker on and clamd scanning
 * (KURA_TEST_CLAMD): uploads by button and by drag-and-drop with progress and the scan badge, an
 * upload that survives the server being killed mid-way (tus resume) and keeps its SHA-256, a
 * Japanese file name through download, downloads switched off for the network, the trash, folder
 * sharing (a subfolder shared on its own hides the folders above it), and the admin pages for
 * groups, folder owners (an heir for the folders of someone suspended) and the tenant key. The
 * scenarios build on each other and run in order.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDefaultConfig } from '../../src/app/bootstrap.js';
import { runKura, startKura, type RunningKura } from '../support/cli.js';
import { expectNoSeriousA11yViolations } from './support/a11y.js';
import { askStepUpOnce } from './support/step-up.js';
import { launchChromium, newContext } from './support/browser.js';
import { Authenticator } from './support/people.js';
import { ensureWebBuilt } from './support/web-ui.js';

const TENANT = 'demo-city';
const CLAMD = process.env.KURA_TEST_CLAMD ?? 'tcp://127.0.0.1:3311';
const PASSWORDS = { admin: 'Hinoki-Tsubame-2718', tanaka: 'Momiji-Kawasemi-3141' };
const FOLDER = '予算資料';
const JP_NAME = '令和7年度 予算案.xlsx';

let dir: string;
let env: Record<string, string>;
let kura: RunningKura | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const requests: string[] = [];
const problems: string[] = [];

beforeAll(async () => {
  ensureWebBuilt();
  dir = mkdtempSync(join(tmpdir(), 'kura-e2e-files-'));
  env = { KURA_DATA_DIR: join(dir, 'data'), KURA_LOG_LEVEL: 'warn', KURA_JOBS: 'on', KURA_CLAMD: CLAMD };
  // The default kura.yaml (data locations in JP), plus a short job poll so scans start at once.
  const config = writeDefaultConfig(env, dir, { region: '東京都', facility: 'e2e' });
  writeFileSync(config!, `${readFileSync(config!, 'utf8')}jobs:\n  pollMs: 200\n`);
  kura = await startKura({ cwd: dir, env });
  browser = await launchChromium();
});

afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await browser?.close();
  await kura?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function base(): string {
  if (!kura) throw new Error('kura not started');
  return `https://127.0.0.1:${kura.lgwanPort}`;
}

function localLink(url: string): string {
  return `${base()}/setup${new URL(url).hash}`;
}

function setupLinkIn(output: string): string {
  const match = /https:\/\/\S+\/setup#token=[A-Za-z0-9_-]+/.exec(output);
  if (!match) throw new Error(`no setup link in:\n${output}`);
  return localLink(match[0]);
}

async function openPage(url?: string): Promise<Page> {
  if (!browser) throw new Error('browser not started');
  const context = await newContext(browser);
  contexts.push(context);
  const page = await context.newPage();
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (message) => {
    // 4xx answers and the refused connections while the server restarts are logged as failed loads.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  if (url) await page.goto(url);
  return page;
}

function field(scope: Page | Locator, label: string): Locator {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return scope.getByLabel(new RegExp(`^${escaped}(※必須)?$`));
}

async function expectHeading(page: Page, text: string): Promise<void> {
  await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: 15_000 }).toBe(text);
}

/** Sets the password through a setup link and enrols TOTP; ends on the signed-in home page. */
async function setUp(link: string, password: string, displayName: string): Promise<{ page: Page; authenticator: Authenticator }> {
  const page = await openPage(link);
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

function nav(page: Page, name: string): Locator {
  return page.getByRole('navigation', { name: 'メインメニュー' }).getByRole('link', { name, exact: true });
}

function row(page: Page, name: string): Locator {
  return page.locator(`[data-testid="item-row"][data-name="${name}"]`);
}

/** Follows the name link of a row (the folder, or the file's detail page). */
async function openRow(page: Page, name: string): Promise<void> {
  await row(page, name).getByRole('rowheader').getByRole('link').click();
}

/** Opens the row's action panel (if closed) and clicks an action. */
async function rowAction(page: Page, name: string, action: string): Promise<void> {
  const panel = page.locator(`[data-testid="item-actions"][data-name="${name}"]`);
  if (!(await panel.isVisible())) await row(page, name).getByTestId('actions-toggle').click();
  await panel.getByRole('button', { name: action, exact: true }).click();
}

function upload(page: Page, name: string): Locator {
  return page.locator(`[data-testid="upload-item"][data-name="${name}"]`);
}

/**
 * Records, in the page, every state and progress value each upload shows (a MutationObserver), so
 * a test can check the sequence (アップロード中 → ウイルス検査待ち → 完了) and not just the end.
 */
async function recordUploads(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __uploads?: Array<{ name: string; status: string; value: number }> };
    if (w.__uploads) return;
    const seen: Array<{ name: string; status: string; value: number }> = [];
    w.__uploads = seen;
    const record = () => {
      for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-testid="upload-item"]'))) {
        const bar = el.querySelector('[role="progressbar"]');
        const entry = {
          name: el.dataset.name ?? '',
          status: el.dataset.status ?? '',
          value: Number(bar?.getAttribute('aria-valuenow')),
        };
        const last = seen.findLast((s) => s.name === entry.name);
        if (!last || last.status !== entry.status || last.value !== entry.value) seen.push(entry);
      }
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true,
      childList: true,
      attributes: true,
      attributeFilter: ['aria-valuenow', 'data-status'],
    });
  });
}

async function recorded(page: Page, name: string): Promise<Array<{ status: string; value: number }>> {
  const all = await page.evaluate(
    () => (window as unknown as { __uploads: Array<{ name: string; status: string; value: number }> }).__uploads,
  );
  return all.filter((s) => s.name === name);
}

/** The distinct statuses in order. */
function statuses(seen: Array<{ status: string }>): string[] {
  return seen.map((s) => s.status).filter((s, i, all) => i === 0 || all[i - 1] !== s);
}

/** Answers a step-up dialog if one opened. */
async function stepUpIfAsked(page: Page, authenticator: Authenticator): Promise<void> {
  const dialog = page.getByTestId('step-up-dialog');
  await dialog.getByLabel(/^確認コード/).fill(await authenticator.nextCode());
  await dialog.getByRole('button', { name: '確認して続ける' }).click();
  await expect.poll(() => dialog.isVisible()).toBe(false);
}

/**
 * Waits for `done`, answering the step-up dialog first if the server asks for one (whether it does
 * depends on how long ago the administrator last verified).
 */
async function withStepUp<T>(page: Page, authenticator: Authenticator, done: Promise<T>): Promise<T> {
  let settled = false;
  const result = done.finally(() => {
    settled = true;
  });
  const stepUp = page.getByTestId('step-up-dialog');
  await expect.poll(async () => settled || (await stepUp.isVisible()), { timeout: 15_000 }).toBe(true);
  if (!settled) await stepUpIfAsked(page, authenticator);
  return result;
}

/** Switches downloads on or off for the LGWAN zone on the policy page (機能の利用). */
async function setDownloads(page: Page, authenticator: Authenticator, on: boolean): Promise<void> {
  await nav(page, 'セキュリティ設定').click();
  await expectHeading(page, 'セキュリティ設定');
  const box = page.getByTestId('features-lgwan').getByLabel('ダウンロード', { exact: true });
  expect(await box.isChecked()).toBe(!on);
  await box.setChecked(on);
  const saved = page.waitForResponse((r) => r.url().endsWith('/api/v1/admin/policy') && r.request().method() === 'PUT' && r.ok());
  await page.getByRole('button', { name: '設定を保存する' }).click();
  await withStepUp(page, authenticator, saved);
  await page.getByTestId('policy-saved').waitFor();
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const state: {
  admin?: { page: Page; authenticator: Authenticator };
  tanaka?: { page: Page; authenticator: Authenticator };
  folderUrl?: string;
} = {};

function tanaka() {
  if (!state.tanaka) throw new Error('tanaka is not set up');
  return state.tanaka;
}
function admin() {
  if (!state.admin) throw new Error('the administrator is not set up');
  return state.admin;
}

describe('files in the browser', () => {
  it('shows the file browser to staff: create a folder, quota, empty folder [AC-05]', async () => {
    state.admin = await setUp(setupLinkIn(kura!.stdout()), PASSWORDS.admin, '管理者');
    const created = await runKura(
      ['user', 'create', '--tenant', TENANT, '--login', 'tanaka', '--role', 'staff', '--name', '田中 太郎'],
      {
        cwd: dir,
        env,
      },
    );
    expect(created.code).toBe(0);
    state.tanaka = await setUp(setupLinkIn(created.stdout), PASSWORDS.tanaka, '田中 太郎');
    const { page } = tanaka();

    await nav(page, 'ファイル').click();
    await expectHeading(page, 'ファイル');
    expect(await page.title()).toBe('ファイル | 蔵 Kura');
    await page.getByTestId('folder-empty').waitFor();
    expect(await page.getByTestId('quota-user').textContent()).toMatch(/^0 B \/ /);

    await page.getByRole('button', { name: '新しいフォルダー' }).click();
    const dialog = page.getByTestId('name-dialog');
    // A name with a path separator is refused before anything is sent.
    await field(dialog, 'フォルダー名').fill('予算/資料');
    await dialog.getByRole('button', { name: '作成する' }).click();
    await dialog.getByText('名前に使えない文字が含まれているか、長すぎます', { exact: false }).waitFor();
    await field(dialog, 'フォルダー名').fill(FOLDER);
    await dialog.getByRole('button', { name: '作成する' }).click();
    await page.getByTestId('files-success').getByText(`フォルダー「${FOLDER}」を作成しました。`).waitFor();
    await expectNoSeriousA11yViolations(page, 'file browser (top-level folders)');

    await openRow(page, FOLDER);
    await expectHeading(page, FOLDER);
    await page.getByTestId('folder-empty').waitFor();
    expect(await page.getByTestId('breadcrumbs').textContent()).toContain(FOLDER);
    expect(await page.getByTestId('folder-role').textContent()).toContain('あなたの権限：フォルダー管理者');
    expect(await page.getByTestId('folder-tree').locator('[aria-current="page"]').textContent()).toBe(FOLDER);
    state.folderUrl = page.url();
    expect(state.folderUrl).toMatch(/\/folders\/[0-9a-f-]{36}$/);
  });

  it('uploads by the button with a progress bar to 100 % and the badge going from ウイルス検査待ち to 利用可; a second upload of the same name offers 両方残す [MAL-01]', async () => {
    const { page } = tanaka();
    await recordUploads(page);
    const name = '会議録.txt';
    const bytes = Buffer.concat([Buffer.from('令和7年度 第1回 予算検討会議 会議録\n'), randomBytes(3 * 1024 * 1024)]);
    const path = join(dir, name);
    writeFileSync(path, bytes);

    await page.getByTestId('upload-input').setInputFiles(path);
    const item = upload(page, name);
    await item.waitFor();
    await expect.poll(() => item.getAttribute('data-status'), { timeout: 60_000 }).toBe('available');
    expect(await item.getByTestId('upload-status').textContent()).toBe('完了');
    const bar = item.getByRole('progressbar');
    expect(await bar.getAttribute('aria-valuenow')).toBe('100');
    expect(await bar.getAttribute('aria-label')).toBe(`「${name}」のアップロードの進み具合`);
    const seen = await recorded(page, name);
    expect(statuses(seen)).toEqual(expect.arrayContaining(['uploading', 'held', 'available']));
    expect(statuses(seen).indexOf('held')).toBeLessThan(statuses(seen).indexOf('available'));
    expect(seen.find((s) => s.status === 'held')?.value).toBe(100);

    // The table row: size, version, badge.
    await expect.poll(() => row(page, name).getAttribute('data-state'), { timeout: 30_000 }).toBe('available');
    expect(await row(page, name).getByTestId('state-badge').textContent()).toBe('利用可');
    expect(await row(page, name).getByTestId('item-size').textContent()).toBe('3.0 MB');
    expect(await row(page, name).getByTestId('item-version').textContent()).toBe('1');
    await expect.poll(async () => (await page.getByTestId('quota-user').textContent()) ?? '').toMatch(/^3\.0 MB \/ /);

    // The same name again: the server refuses (409 name.taken) and the list offers 両方残す.
    await page.getByTestId('upload-input').setInputFiles(path);
    const again = page.locator('[data-testid="upload-item"][data-status="conflict"]');
    await again.waitFor();
    expect(await again.textContent()).toContain(`保存先に「${name}」と同じ名前のファイルが既にあります。`);
    await expectNoSeriousA11yViolations(page, 'file browser with uploads');
    await again.getByRole('button', { name: /^両方残す/ }).click();
    await expect.poll(() => upload(page, '会議録 (2).txt').getAttribute('data-status'), { timeout: 60_000 }).toBe('available');
    await expect.poll(() => row(page, '会議録 (2).txt').getAttribute('data-state'), { timeout: 30_000 }).toBe('available');
  });

  it('uploads by drag-and-drop onto the folder [MAL-01]', async () => {
    const { page } = tanaka();
    const name = '議事次第.txt';
    const text = '1. 開会\n2. 令和7年度予算について\n3. 閉会\n';
    const dataTransfer = await page.evaluateHandle(
      ([fileName, content]) => {
        const dt = new DataTransfer();
        dt.items.add(new File([content], fileName, { type: 'text/plain' }));
        return dt;
      },
      [name, text] as const,
    );
    const zone = page.getByTestId('drop-zone');
    await zone.dispatchEvent('dragenter', { dataTransfer });
    await expect.poll(() => zone.getAttribute('data-over')).toBe('true');
    await zone.dispatchEvent('dragover', { dataTransfer });
    await zone.dispatchEvent('drop', { dataTransfer });
    await expect.poll(() => upload(page, name).getAttribute('data-status'), { timeout: 60_000 }).toBe('available');
    expect(await upload(page, name).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    expect(statuses(await recorded(page, name))).toContain('held');
    await expect.poll(() => row(page, name).getAttribute('data-state'), { timeout: 30_000 }).toBe('available');
    expect(await row(page, name).getByTestId('item-size').textContent()).toBe(`${Buffer.byteLength(text)} B`);
  });

  it("resumes an upload after the server is killed mid-way, and the stored SHA-256 is the original's [TLS-02] [MAL-01]", async () => {
    const { page } = tanaka();
    const name = '住民基本台帳_抽出.csv';
    const bytes = randomBytes(40 * 1024 * 1024);
    const path = join(dir, name);
    writeFileSync(path, bytes);
    // Slow the upload down (loopback would finish before the test could act) so the kill lands mid-file.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 6 * 1024 * 1024,
    });

    await page.getByTestId('upload-input').setInputFiles(path);
    const item = upload(page, name);
    const bar = item.getByRole('progressbar');
    await expect
      .poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 60_000, interval: 50 })
      .toBeGreaterThanOrEqual(30);
    expect(Number(await bar.getAttribute('aria-valuenow'))).toBeLessThan(100);

    // The server dies without a chance to finish anything, then comes back on the same ports and data.
    const { lgwanPort, internetPort } = kura!;
    const exited = new Promise((r) => kura!.child.once('exit', r));
    kura!.child.kill('SIGKILL');
    await exited;
    await expect.poll(() => item.getAttribute('data-status'), { timeout: 15_000 }).toMatch(/^(retrying|failed)$/);
    kura = await startKura({
      cwd: dir,
      env: { ...env, KURA_LGWAN_PORT: String(lgwanPort), KURA_INTERNET_PORT: String(internetPort) },
    });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });

    // tus-js-client retries on its own; if the retries ran out before the server was back, 再開 continues.
    await expect.poll(() => item.getAttribute('data-status'), { timeout: 60_000 }).toMatch(/^(held|available|failed)$/);
    if ((await item.getAttribute('data-status')) === 'failed') await item.getByRole('button', { name: /^再開/ }).click();
    await expect.poll(() => item.getAttribute('data-status'), { timeout: 90_000 }).toBe('available');
    const seen = statuses(await recorded(page, name));
    expect(seen).toContain('uploading');
    expect(seen.some((s) => s === 'retrying' || s === 'failed')).toBe(true);

    // The version detail shows the SHA-256 of what was stored: the original file's.
    await openRow(page, name);
    await expectHeading(page, name);
    const version = page.locator('[data-testid="version-row"][data-version="1"]');
    expect(await version.getByTestId('version-sha256').textContent()).toBe(sha256(bytes));
    expect(await version.getByTestId('state-badge').textContent()).toBe('利用可');
    expect(await version.getByTestId('version-scan').textContent()).toContain('検出なし');
    expect(await version.getByTestId('version-scan').textContent()).toContain('clamd');
    await expectNoSeriousA11yViolations(page, 'file detail');

    // And the bytes that come back are the original's.
    const download = page.waitForEvent('download');
    await page.getByTestId('download-latest').click();
    const saved = readFileSync((await (await download).path())!);
    expect(saved.length).toBe(bytes.length);
    expect(sha256(saved)).toBe(sha256(bytes));
    await page.goto(state.folderUrl!);
    await expectHeading(page, FOLDER);
  });

  it('offers 再開 when the retries run out, and 再開 continues from where the upload stopped', async () => {
    const { page } = tanaka();
    await recordUploads(page);
    const name = '統計データ.bin';
    const bytes = randomBytes(20 * 1024 * 1024);
    const path = join(dir, name);
    writeFileSync(path, bytes);
    // The first chunk (8 MiB of 20) gets through; then the network is gone for longer than the retries last.
    let patches = 0;
    let blocking = true;
    await page.route('**/api/v1/uploads/*', (route) => {
      const method = route.request().method();
      if (method === 'PATCH' && ++patches === 1) return route.continue();
      return blocking && (method === 'PATCH' || method === 'HEAD') ? route.abort('connectionrefused') : route.continue();
    });
    await page.getByTestId('upload-input').setInputFiles(path);
    const item = upload(page, name);
    await expect.poll(() => item.getAttribute('data-status'), { timeout: 60_000 }).toBe('failed');
    expect(await item.getByTestId('upload-error').getAttribute('data-code')).toBe('network');
    expect(await item.getByTestId('upload-error').textContent()).toContain('サーバーに接続できませんでした。');
    expect(await item.getByTestId('upload-status').textContent()).toBe('失敗');
    await expectNoSeriousA11yViolations(page, 'failed upload');

    blocking = false;
    await item.getByRole('button', { name: /^再開/ }).click();
    await expect.poll(() => item.getAttribute('data-status'), { timeout: 60_000 }).toBe('available');
    await page.unroute('**/api/v1/uploads/*');
    // It went on from the first chunk's 40 %, not from 0.
    const seen = await recorded(page, name);
    const failedAt = seen.findIndex((s) => s.status === 'failed');
    const after = seen.slice(failedAt + 1).filter((s) => s.status === 'uploading');
    expect(after.length).toBeGreaterThan(0);
    expect(Math.min(...after.map((s) => s.value))).toBeGreaterThanOrEqual(40);
    await openRow(page, name);
    expect(await page.locator('[data-testid="version-row"][data-version="1"]').getByTestId('version-sha256').textContent()).toBe(
      sha256(bytes),
    );
    await page.goBack();
    await expectHeading(page, FOLDER);
  });

  it('downloads a Japanese-named file under exactly its name, with the same bytes; a new version keeps the old one [TLS-02]', async () => {
    const { page } = tanaka();
    const bytes = randomBytes(200 * 1024);
    const path = join(dir, JP_NAME);
    writeFileSync(path, bytes);
    await page.getByTestId('upload-input').setInputFiles(path);
    await expect.poll(() => row(page, JP_NAME).getAttribute('data-state'), { timeout: 60_000 }).toBe('available');

    const download = page.waitForEvent('download');
    await row(page, JP_NAME).getByTestId('download-link').click();
    const d = await download;
    expect(d.suggestedFilename()).toBe(JP_NAME);
    const saved = readFileSync((await d.path())!);
    expect(sha256(saved)).toBe(sha256(bytes));

    await rowAction(page, JP_NAME, '詳細・版の履歴');
    await expectHeading(page, JP_NAME);
    expect(await page.locator('[data-testid="version-row"][data-version="1"]').getByTestId('version-sha256').textContent()).toBe(
      sha256(bytes),
    );

    // A new version from the detail page: version 2 is scanned, becomes the download, and version 1 stays.
    const revised = randomBytes(150 * 1024);
    const revisedPath = join(dir, 'revised.xlsx');
    writeFileSync(revisedPath, revised);
    await page.getByTestId('version-input').setInputFiles(revisedPath);
    const v2 = page.locator('[data-testid="version-row"][data-version="2"]');
    await expect.poll(() => v2.getAttribute('data-state'), { timeout: 60_000 }).toBe('available');
    expect(await v2.getByTestId('version-sha256').textContent()).toBe(sha256(revised));
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe(JP_NAME);
    const latest = page.waitForEvent('download');
    await page.getByTestId('download-latest').click();
    expect((await latest).suggestedFilename()).toBe(JP_NAME);
    expect(sha256(readFileSync((await (await latest).path())!))).toBe(sha256(revised));
    const first = page.waitForEvent('download');
    await page.locator('[data-testid="version-row"][data-version="1"]').getByTestId('download-version').click();
    expect(sha256(readFileSync((await (await first).path())!))).toBe(sha256(bytes));
    await page.goBack();
    await expectHeading(page, FOLDER);
  });

  it('hides the download links with a note when an administrator switches downloads off for the network; the server refuses them too', async () => {
    const { page: adminPage, authenticator } = admin();
    await setDownloads(adminPage, authenticator, false);

    // The switches come with /me, so a page loaded after the change knows.
    const { page } = tanaka();
    await page.reload();
    await expectHeading(page, FOLDER);
    await expect.poll(() => row(page, JP_NAME).getAttribute('data-state')).toBe('available');
    expect(await page.getByTestId('downloads-off').textContent()).toBe('このネットワークではダウンロードが無効です。');
    expect(await page.getByTestId('download-link').count()).toBe(0);
    const href = await row(page, JP_NAME).getByRole('rowheader').getByRole('link').getAttribute('href');
    expect(href).toMatch(/^\/files\/[0-9a-f-]{36}$/);
    const refused = await page.evaluate(async (url) => {
      const response = await fetch(url);
      return { status: response.status, code: ((await response.json()) as { error: { code: string } }).error.code };
    }, `/api/v1${href}/content`);
    expect(refused).toEqual({ status: 403, code: 'tenant.feature_disabled' });

    await openRow(page, JP_NAME);
    await expectHeading(page, JP_NAME);
    expect(await page.locator('[data-testid="version-row"]').count()).toBe(2);
    expect(await page.getByTestId('downloads-off').count()).toBe(1);
    expect(await page.getByTestId('download-latest').count()).toBe(0);
    expect(await page.getByTestId('download-version').count()).toBe(0);
    await expectNoSeriousA11yViolations(page, 'file detail without downloads');

    await setDownloads(adminPage, authenticator, true);
    await page.reload();
    await expectHeading(page, JP_NAME);
    await page.getByTestId('download-latest').waitFor();
    expect(await page.getByTestId('download-version').count()).toBe(2);
    expect(await page.getByTestId('downloads-off').count()).toBe(0);
    await page.goto(state.folderUrl!);
    await expectHeading(page, FOLDER);
  });

  it('moves a file to the trash and restores it from the trash page; a name taken meanwhile offers 両方残す', async () => {
    const { page } = tanaka();
    const name = '議事次第.txt';
    await rowAction(page, name, '削除');
    const confirm = page.getByTestId('confirm-dialog');
    expect(await confirm.getByRole('heading').textContent()).toBe(`「${name}」をごみ箱に移動しますか？`);
    await expectNoSeriousA11yViolations(page, 'delete confirmation');
    await confirm.getByRole('button', { name: 'ごみ箱に移動' }).click();
    await page.getByTestId('files-success').getByText(`「${name}」をごみ箱に移動しました。`).waitFor();
    await expect.poll(() => row(page, name).count()).toBe(0);

    await nav(page, 'ごみ箱').click();
    await expectHeading(page, 'ごみ箱');
    await page.getByText('ごみ箱に移動したファイルとフォルダーは、30 日後に完全に削除されます。').waitFor();
    const trashed = page.locator(`[data-testid="trash-row"][data-name="${name}"]`);
    await trashed.waitFor();
    expect(await trashed.textContent()).toContain(FOLDER);
    expect(await trashed.getByTestId('trash-deleted-by').textContent()).toBe('田中 太郎');
    await expectNoSeriousA11yViolations(page, 'trash page');
    await trashed.getByRole('button', { name: /^復元/ }).click();
    await page.getByTestId('trash-success').getByText(`「${name}」を元の場所に復元しました。`).waitFor();
    await expect.poll(() => trashed.count()).toBe(0);

    await page.goto(state.folderUrl!);
    await expectHeading(page, FOLDER);
    await expect.poll(() => row(page, name).getAttribute('data-state')).toBe('available');

    // Delete again, put a new file of the same name in its place, and restore: 両方残す.
    await rowAction(page, name, '削除');
    await page.getByTestId('confirm-dialog').getByRole('button', { name: 'ごみ箱に移動' }).click();
    await expect.poll(() => row(page, name).count()).toBe(0);
    const path = join(dir, name);
    writeFileSync(path, '差し替え後の議事次第\n');
    await page.getByTestId('upload-input').setInputFiles(path);
    await expect.poll(() => row(page, name).count(), { timeout: 30_000 }).toBe(1);
    await nav(page, 'ごみ箱').click();
    await page.locator(`[data-testid="trash-row"][data-name="${name}"]`).getByRole('button', { name: /^復元/ }).click();
    const conflict = page.getByTestId('conflict-dialog');
    await conflict.waitFor();
    await expectNoSeriousA11yViolations(page, 'restore name conflict');
    await conflict.getByRole('button', { name: '両方残す' }).click();
    await page.getByTestId('trash-success').getByText('「議事次第 (2).txt」を元の場所に復元しました。').waitFor();
    await page.goto(state.folderUrl!);
    await expect.poll(() => row(page, '議事次第 (2).txt').count()).toBe(1);
  });

  it('shares a folder with a colleague as 編集者; a subfolder shows the grant as inherited; a subfolder shared on its own hides the folders above it [AC-05]', async () => {
    const { page } = tanaka();
    await page.getByRole('button', { name: '新しいフォルダー' }).click();
    await field(page.getByTestId('name-dialog'), 'フォルダー名').fill('見積書');
    await page.getByTestId('name-dialog').getByRole('button', { name: '作成する' }).click();
    await row(page, '見積書').waitFor();

    // First the subfolder alone, as 閲覧者: the colleague reaches it from their list, and nothing
    // on the page names the folder above it, which they cannot open.
    await openRow(page, '見積書');
    await expectHeading(page, '見積書');
    await page.getByTestId('share-button').click();
    const subDialog = page.getByTestId('share-dialog');
    await subDialog.getByText('共有している相手はいません。').waitFor();
    await field(subDialog, '共有する相手（職員またはグループ）').selectOption({ label: '管理者（admin）' });
    await field(subDialog, '権限').selectOption('viewer');
    await subDialog.getByRole('button', { name: '追加する' }).click();
    await subDialog.getByTestId('share-success').getByText('管理者 に「閲覧者」の権限を設定しました。').waitFor();
    await subDialog.getByRole('button', { name: '閉じる' }).click();

    const adminPage = admin().page;
    await nav(adminPage, 'ファイル').click();
    await expectHeading(adminPage, 'ファイル');
    await row(adminPage, '見積書').waitFor();
    expect(await row(adminPage, FOLDER).count()).toBe(0);
    await openRow(adminPage, '見積書');
    await expectHeading(adminPage, '見積書');
    expect(await adminPage.getByTestId('folder-role').textContent()).toContain('あなたの権限：閲覧者');
    expect(await adminPage.getByTestId('breadcrumbs').getByRole('listitem').allTextContents()).toEqual([
      'フォルダー一覧',
      '見積書',
    ]);
    expect(await adminPage.getByTestId('folder-tree').textContent()).not.toContain(FOLDER);

    // Then the parent, as 編集者.
    await page.getByTestId('breadcrumbs').getByRole('link', { name: FOLDER }).click();
    await expectHeading(page, FOLDER);
    await page.getByTestId('share-button').click();
    const dialog = page.getByTestId('share-dialog');
    await dialog.getByText('共有している相手はいません。').waitFor();
    // The folder permission is named apart from the tenant role 管理者.
    expect(await field(dialog, '権限').locator('option').allTextContents()).toEqual(['閲覧者', '編集者', 'フォルダー管理者']);
    await field(dialog, '共有する相手（職員またはグループ）').selectOption({ label: '管理者（admin）' });
    await field(dialog, '権限').selectOption('editor');
    await dialog.getByRole('button', { name: '追加する' }).click();
    await dialog.getByTestId('share-success').getByText('管理者 に「編集者」の権限を設定しました。').waitFor();
    const grant = dialog.locator('[data-testid="grant-row"][data-subject="管理者（admin）"]');
    expect(await grant.getAttribute('data-role')).toBe('editor');
    expect(await grant.textContent()).toContain('このフォルダー');
    await expectNoSeriousA11yViolations(page, 'share dialog');
    await dialog.getByRole('button', { name: '閉じる' }).click();

    // The subfolder lists both: the grant set on it, and the one inherited from above.
    await openRow(page, '見積書');
    await expectHeading(page, '見積書');
    await page.getByTestId('share-button').click();
    const grants = page.getByTestId('share-dialog').locator('[data-testid="grant-row"][data-subject="管理者（admin）"]');
    const inherited = grants.filter({ hasText: `「${FOLDER}」から継承` });
    await inherited.waitFor();
    expect(await inherited.getAttribute('data-role')).toBe('editor');
    const own = grants.filter({ hasText: 'このフォルダー' });
    expect(await own.getAttribute('data-role')).toBe('viewer');

    // Removing the grant set here asks first, naming the colleague; cancelling keeps it.
    const shareDialog = page.getByTestId('share-dialog');
    const confirm = page.getByRole('dialog', { name: '管理者（admin） の権限を削除しますか？' });
    await own.getByRole('button', { name: '削除' }).click();
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain('「見積書」に設定した「閲覧者」の権限を削除します。');
    await confirm.getByRole('button', { name: 'キャンセル' }).click();
    await expect.poll(() => confirm.isVisible()).toBe(false);
    expect(await shareDialog.isVisible()).toBe(true);
    expect(await own.count()).toBe(1);
    await own.getByRole('button', { name: '削除' }).click();
    await confirm.getByRole('button', { name: '権限を削除する' }).click();
    await shareDialog.getByTestId('share-success').getByText('管理者（admin） の権限を削除しました。').waitFor();
    expect(await own.count()).toBe(0);
    expect(await inherited.count()).toBe(1);
    await shareDialog.getByRole('button', { name: '閉じる' }).click();

    // The colleague now finds the parent among theirs (the subfolder is reached from it), with the files in it.
    await nav(adminPage, 'ファイル').click();
    await expectHeading(adminPage, 'ファイル');
    await row(adminPage, FOLDER).waitFor();
    expect(await row(adminPage, '見積書').count()).toBe(0);
    await openRow(adminPage, FOLDER);
    await expectHeading(adminPage, FOLDER);
    expect(await adminPage.getByTestId('folder-role').textContent()).toContain('あなたの権限：編集者');
    await expect.poll(() => row(adminPage, JP_NAME).getAttribute('data-state')).toBe('available');
  });

  it('lets the admin manage groups; folders of an owner suspended automatically are re-assigned, and suspending an owner asks for an heir [HR-04] [AC-05]', async () => {
    const { page, authenticator } = admin();
    await nav(page, 'グループ').click();
    await expectHeading(page, 'グループ');
    const form = page.getByTestId('group-form');
    await field(form, 'グループ名').fill('財政課');
    await form.getByLabel('田中 太郎（tanaka）').check();
    await form.getByRole('button', { name: '作成する' }).click();
    if (await page.getByTestId('step-up-dialog').isVisible()) await stepUpIfAsked(page, authenticator);
    await page.getByTestId('groups-success').getByText('グループ「財政課」を作成しました。').waitFor();
    expect(await page.locator('[data-testid="group-row"][data-name="財政課"]').getByTestId('group-members').textContent()).toBe(
      '田中 太郎',
    );
    await expectNoSeriousA11yViolations(page, 'groups page');

    await nav(page, 'フォルダー管理責任者').click();
    await expectHeading(page, 'フォルダー管理責任者');
    const owned = page.locator(`[data-testid="owner-row"][data-name="${FOLDER}"]`);
    const sub = page.locator('[data-testid="owner-row"][data-name="見積書"]');
    expect(await owned.getAttribute('data-owner-active')).toBe('true');
    expect(await sub.textContent()).toContain('田中 太郎（tanaka）');
    expect(await page.getByTestId('owners-inactive').count()).toBe(0);

    // The inactivity job (AC-03) suspends without an heir and leaves the folders flagged; its wait of
    // weeks cannot pass here, so the test makes the same change to the account in the database.
    const db = new BetterSqlite3(join(dir, 'data', 'kura.db'));
    try {
      expect(db.prepare(`update users set state = 'suspended' where login_id = 'tanaka'`).run().changes).toBe(1);
    } finally {
      db.close();
    }

    await page.reload();
    await expectHeading(page, 'フォルダー管理責任者');
    await page.getByTestId('owners-inactive').waitFor();
    expect(await page.getByTestId('owners-inactive').textContent()).toContain(
      '管理責任者が無効になっているフォルダーが 2 件あります',
    );
    expect(await owned.getAttribute('data-owner-active')).toBe('false');
    await expectNoSeriousA11yViolations(page, 'folder owners page');
    await owned.getByRole('button', { name: /^再割当/ }).click();
    const dialog = page.getByTestId('reassign-dialog');
    await field(dialog, '新しい管理責任者').selectOption({ label: '管理者（admin）' });
    await dialog.getByRole('button', { name: '再割当する' }).click();
    await withStepUp(
      page,
      authenticator,
      page.getByTestId('owners-success').getByText(`「${FOLDER}」の管理責任者を 管理者 さんに変更しました。`).waitFor(),
    );
    await expect.poll(() => owned.getAttribute('data-owner-active')).toBe('true');
    expect(await sub.getAttribute('data-owner-active')).toBe('false');

    // Tanaka comes back, still owning 見積書; suspending them from the users page now needs an heir.
    await nav(page, '利用者の管理').click();
    await expectHeading(page, '利用者の管理');
    const tanakaRow = page.locator('[data-testid="user-row"][data-login-id="tanaka"]');
    const userAction = async (action: string) => {
      const panel = page.locator('[data-testid="user-actions"][data-login-id="tanaka"]');
      if (!(await panel.isVisible())) await tanakaRow.getByTestId('actions-toggle').click();
      await panel.getByRole('button', { name: action, exact: true }).click();
    };
    expect(await tanakaRow.getAttribute('data-state')).toBe('suspended');
    await userAction('再開');
    await withStepUp(
      page,
      authenticator,
      page.getByTestId('admin-success').getByText('田中 太郎 さんを再開しました。').waitFor(),
    );
    await expect.poll(() => tanakaRow.getAttribute('data-state')).toBe('active');

    await userAction('停止');
    const confirm = page.getByTestId('confirm-dialog');
    const heir = field(confirm, 'フォルダーの引き継ぎ先');
    expect(
      await confirm.getByText('この利用者が管理責任者のフォルダーは、引き継ぎ先に移ります。', { exact: false }).count(),
    ).toBe(1);
    expect(await heir.inputValue()).toBe('');
    // Only active colleagues can take over: not tanaka themself.
    expect(await heir.locator('option').allTextContents()).toEqual(['選択しない', '管理者（admin）']);
    await expectNoSeriousA11yViolations(page, 'suspend confirmation with heir');
    await confirm.getByRole('button', { name: '停止', exact: true }).click();
    await withStepUp(
      page,
      authenticator,
      confirm.locator('[data-testid="heir-select"][data-state="user.owns_folders"]').waitFor(),
    );
    expect(await confirm.textContent()).toContain('この利用者はフォルダーの管理責任者です。');
    expect(await heir.getAttribute('aria-invalid')).toBe('true');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('heir-select');
    expect(await tanakaRow.getAttribute('data-state')).toBe('active');

    await heir.selectOption({ label: '管理者（admin）' });
    await confirm.getByRole('button', { name: '停止', exact: true }).click();
    const success = page.getByTestId('admin-success');
    await withStepUp(page, authenticator, success.getByText('田中 太郎 さんを停止しました。').waitFor());
    expect(await success.getByTestId('heir-done').textContent()).toBe('フォルダーの引き継ぎ先：管理者 さん');
    await expect.poll(() => confirm.isVisible()).toBe(false);
    await expect.poll(() => tanakaRow.getAttribute('data-state')).toBe('suspended');

    // The folder went to the heir in the same step, so nothing is left flagged.
    await nav(page, 'フォルダー管理責任者').click();
    await expectHeading(page, 'フォルダー管理責任者');
    await expect.poll(() => sub.getAttribute('data-owner-active')).toBe('true');
    expect(await sub.textContent()).toContain('管理者（admin）');
    expect(await owned.textContent()).toContain('管理者（admin）');
    expect(await page.getByTestId('owners-inactive').count()).toBe(0);
  });

  it('rotates the tenant key after a confirmation and step-up; the data keys are re-wrapped [ENC-03] [AC-13]', async () => {
    const { page, authenticator } = admin();
    await nav(page, '暗号鍵').click();
    await expectHeading(page, '暗号鍵');
    expect(await page.getByTestId('keys-active').textContent()).toBe('第1版');
    expect(await page.locator('[data-testid="key-row"]').count()).toBe(1);
    await expectNoSeriousA11yViolations(page, 'keys page');

    // The first rotation request answers step_up_required (as after the policy's idle minutes).
    await askStepUpOnce(page, '**/api/v1/admin/keys/rotate');
    await page.getByTestId('rotate-button').click();
    const confirm = page.locator('[data-testid="confirm-dialog"]:visible');
    expect(await confirm.getByRole('heading').textContent()).toBe('暗号鍵を更新しますか？');
    await confirm.getByRole('button', { name: '鍵を更新する' }).click();
    await page.getByTestId('step-up-dialog').waitFor();
    await stepUpIfAsked(page, authenticator);
    await page.getByTestId('keys-done').getByText('暗号鍵を第2版に更新しました。').waitFor();
    expect(await page.getByTestId('keys-active').textContent()).toBe('第2版');
    expect(await page.locator('[data-testid="key-row"][data-state="retired"]').count()).toBe(1);
    // The re-wrap job moves every data key to the new version.
    await expect.poll(() => page.getByTestId('keys-pending').getAttribute('data-count'), { timeout: 30_000 }).toBe('0');
  });

  it('destroys the retired key version for good after a confirmation [ENC-03]', async () => {
    const { page } = admin();
    const retired = page.locator('[data-testid="key-row"][data-state="retired"]');
    // Only the retired version offers it; the key in use does not.
    expect(await page.locator('[data-testid="key-row"][data-state="active"]').getByTestId('destroy-key').count()).toBe(0);
    await retired.getByRole('button', { name: '第1版の鍵を破棄する' }).click();
    const confirm = page.locator('[data-testid="confirm-dialog"]:visible');
    expect(await confirm.getByRole('heading').textContent()).toBe('第1版の鍵を破棄しますか？');
    expect(await confirm.textContent()).toContain('元に戻すことはできません');
    await confirm.getByRole('button', { name: '破棄する' }).click();
    await page.getByTestId('keys-done').getByText('第1版の鍵を破棄しました。').waitFor();
    expect(await page.locator('[data-testid="key-row"][data-state="destroyed"]').getByText('破棄済み').count()).toBe(1);
    expect(await page.getByTestId('destroy-key').count()).toBe(0);
    // Nothing is left under the destroyed version (files.int.test.ts opens the files afterwards).
    expect(await page.getByTestId('keys-pending').getAttribute('data-count')).toBe('0');
    await expectNoSeriousA11yViolations(page, 'keys page after destruction');
  });

  it('loaded nothing from any other host and raised no script error or CSP violation [LG-05]', () => {
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((u) => !/^(data|blob):/.test(u) && new URL(u).hostname !== '127.0.0.1')).toEqual([]);
    expect(problems).toEqual([]);
  });
});

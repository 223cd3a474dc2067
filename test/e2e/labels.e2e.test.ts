/**
 * Classification labels in a real browser against a real `kura serve` with the job worker on and
 * clamd scanning (KURA_TEST_CLAMD), in the Japanese UI: a staff list with a My Number is uploaded,
 * the file page suggests 「特定個人情報」 and sets it in one click; then the file gets 機密性3 through
 * the label dialog, and the folder listing shows both badges; a folder's label reaches the files in
 * it as an inherited label.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret } from 'otpauth';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeDefaultConfig } from '../../src/app/bootstrap.js';
import { TOTP_PERIOD_S, totpCode, type TotpAlgorithm } from '../../src/crypto/totp.js';
import { startKura, type RunningKura } from '../support/cli.js';
import { expectNoSeriousA11yViolations } from './support/a11y.js';
import { launchChromium, newContext } from './support/browser.js';
import { ensureWebBuilt } from './support/web-ui.js';

const CLAMD = process.env.KURA_TEST_CLAMD ?? 'tcp://127.0.0.1:3311';
const PASSWORD = 'Hinoki-Tsubame-2718';
const FOLDER = '福祉課の名簿';
const FILE = '受給者一覧.csv';
const MY = '123456789018'; // the well-known valid sample number

let dir: string;
let kura: RunningKura | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
let admin: Page | undefined;
const problems: string[] = [];

beforeAll(async () => {
  ensureWebBuilt();
  dir = mkdtempSync(join(tmpdir(), 'kura-e2e-labels-'));
  const env = { KURA_DATA_DIR: join(dir, 'data'), KURA_LOG_LEVEL: 'warn', KURA_JOBS: 'on', KURA_CLAMD: CLAMD };
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

function field(scope: Page | Locator, label: string): Locator {
  const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return scope.getByLabel(new RegExp(`^${escaped}(※必須)?$`));
}

async function expectHeading(page: Page, text: string): Promise<void> {
  await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), { timeout: 15_000 }).toBe(text);
}

function row(page: Page, name: string): Locator {
  return page.locator(`[data-testid="item-row"][data-name="${name}"]`);
}

async function badges(scope: Locator): Promise<string[]> {
  return scope.getByTestId('label-badge').evaluateAll((els) => els.map((e) => e.getAttribute('data-label') ?? ''));
}

/** The first administrator, through the setup link `kura serve` prints; ends on the home page. */
async function setUpAdmin(): Promise<Page> {
  const match = /https:\/\/\S+\/setup#token=[A-Za-z0-9_-]+/.exec(kura!.stdout());
  if (!match) throw new Error('no setup link');
  const context = await newContext(browser!);
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
  });
  await page.goto(`https://127.0.0.1:${kura!.lgwanPort}/setup${new URL(match[0]).hash}`);
  await field(page, 'パスワード').fill(PASSWORD);
  await field(page, 'パスワード（確認）').fill(PASSWORD);
  await page.getByTestId('password-ok').waitFor();
  await page.getByRole('button', { name: 'パスワードを設定する' }).click();
  await expectHeading(page, '二要素認証の設定');
  const secret = ((await page.getByTestId('totp-secret').textContent()) ?? '').replace(/\s+/g, '');
  const uri = new URL((await page.getByTestId('totp-uri').getAttribute('data-uri')) ?? '');
  const code = totpCode(
    Buffer.from(Secret.fromBase32(secret).buffer),
    (uri.searchParams.get('algorithm') ?? 'SHA1') as TotpAlgorithm,
    Math.floor(Date.now() / (TOTP_PERIOD_S * 1000)) * TOTP_PERIOD_S * 1000,
  );
  await field(page, '確認コード').fill(code);
  await page.getByRole('button', { name: '設定を完了する' }).click();
  await expectHeading(page, 'リカバリーコードの保管');
  await page.getByLabel('保管しました').check();
  await page.getByRole('button', { name: '次へ進む' }).click();
  await expectHeading(page, 'ようこそ、管理者 さん');
  return page;
}

describe('classification labels in the browser', () => {
  it('suggests 特定個人情報 for a My Number, sets it in one click, and shows the label badges [PII-01] [PII-02]', async () => {
    const page = (admin = await setUpAdmin());
    await page.getByRole('navigation', { name: 'メインメニュー' }).getByRole('link', { name: 'ファイル', exact: true }).click();
    await expectHeading(page, 'ファイル');
    await page.getByRole('button', { name: '新しいフォルダー' }).click();
    await field(page.getByTestId('name-dialog'), 'フォルダー名').fill(FOLDER);
    await page.getByTestId('name-dialog').getByRole('button', { name: '作成する' }).click();
    await row(page, FOLDER).getByRole('rowheader').getByRole('link').click();
    await expectHeading(page, FOLDER);

    const path = join(dir, FILE);
    writeFileSync(path, `氏名,個人番号\n山田 太郎,${MY}\n`);
    await page.getByTestId('upload-input').setInputFiles(path);
    await expect.poll(() => row(page, FILE).getAttribute('data-state'), { timeout: 60_000 }).toBe('available');
    // Every file has a level: the organisation's default until someone sets one.
    expect(await badges(row(page, FILE))).toEqual(['機密性2']);

    await row(page, FILE).getByRole('rowheader').getByRole('link').click();
    await expectHeading(page, FILE);
    const notice = page.getByTestId('pii-notice');
    await notice.waitFor({ timeout: 30_000 });
    expect(await notice.textContent()).toContain(
      'マイナンバーと思われる番号が見つかりました。「特定個人情報」ラベルの設定を検討してください。',
    );
    await expectNoSeriousA11yViolations(page, 'file detail with the personal-data notice');
    await notice.getByRole('button', { name: /^ラベルを設定/ }).click();
    await page.getByTestId('labels-saved').waitFor();
    await expect.poll(() => badges(page.getByTestId('file-labels'))).toEqual(['機密性2', '特定個人情報']);
    expect(await notice.count()).toBe(0);

    // The label dialog: 機密性3 for this file.
    await page.getByTestId('labels-button').click();
    const dialog = page.getByTestId('label-dialog');
    await dialog.getByRole('heading', { name: `${FILE}のラベル` }).waitFor();
    expect(await dialog.getByLabel('特定個人情報').isChecked()).toBe(true);
    await dialog.getByLabel('機密性3').check();
    await expectNoSeriousA11yViolations(page, 'label dialog');
    await dialog.getByRole('button', { name: '保存する' }).click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect.poll(() => badges(page.getByTestId('file-labels'))).toEqual(['機密性3', '特定個人情報']);

    // The folder listing shows the same badges.
    await page.getByTestId('file-summary').getByRole('link', { name: FOLDER }).click();
    await expectHeading(page, FOLDER);
    await expect.poll(() => badges(row(page, FILE))).toEqual(['機密性3', '特定個人情報']);

    // A folder label reaches the files in it, marked as inherited.
    await page.getByTestId('folder-labels-button').click();
    await dialog.getByLabel('要配慮個人情報').check();
    await dialog.getByRole('button', { name: '保存する' }).click();
    await page.getByTestId('files-success').waitFor();
    await expect.poll(() => badges(row(page, FILE))).toEqual(['機密性3', '特定個人情報', '要配慮個人情報']);
    expect(await row(page, FILE).locator('[data-label="要配慮個人情報"]').textContent()).toContain('（フォルダーから継承）');
    expect(problems).toEqual([]);
  });

  it('lets an administrator set the label and file exchange rules on the policy page [PII-01] [PII-02] [HR-05]', async () => {
    const page = admin!;
    await page
      .getByRole('navigation', { name: 'メインメニュー' })
      .getByRole('link', { name: 'セキュリティ設定', exact: true })
      .click();
    await expectHeading(page, 'セキュリティ設定');
    const labels = page.getByTestId('policy-labels');
    await labels.getByRole('group', { name: 'ラベル', exact: true }).waitFor();
    expect(await field(labels, '機密性の区分').inputValue()).toBe('機密性1\n機密性2\n機密性3');
    expect(
      await labels.getByTestId('labels-my-number').getByLabel('アップロードした職員にラベルの設定を提案する').isChecked(),
    ).toBe(true);
    expect(await labels.getByTestId('labels-external-forbidden').getByLabel('機密性3').isChecked()).toBe(true);
    await labels.getByTestId('labels-my-number').getByLabel('ラベルを自動で設定する').check();
    await labels.getByTestId('labels-pattern-add').click();
    const pattern = labels.getByTestId('labels-pattern');
    await field(pattern, '名前').fill('住民票コード');
    // A broken expression is caught on the page, next to the field.
    await field(pattern, '正規表現').fill('住民票コード(');
    const exchange = page.getByTestId('policy-exchange');
    await field(exchange, '送信を禁止するドメイン').fill('example.com\nfree-mail.example');
    await field(exchange, '自動削除までの日数').fill('3');
    await expectNoSeriousA11yViolations(page, 'policy page with the label and exchange sections');
    await page.getByRole('button', { name: '設定を保存する' }).click();
    await pattern.getByText('正しい正規表現を 500 文字以内で入力してください。').waitFor();
    await field(pattern, '正規表現').fill('住民票コード[:：]?\\d{11}');
    await page.getByRole('button', { name: '設定を保存する' }).click();
    await page.getByTestId('policy-saved').waitFor({ timeout: 15_000 });

    await page.reload();
    await expectHeading(page, 'セキュリティ設定');
    await expect.poll(() => page.getByTestId('labels-my-number').getByLabel('ラベルを自動で設定する').isChecked()).toBe(true);
    expect(await field(page.getByTestId('labels-pattern'), '正規表現').inputValue()).toBe('住民票コード[:：]?\\d{11}');
    expect(await field(page.getByTestId('policy-exchange'), '送信を禁止するドメイン').inputValue()).toBe(
      'example.com\nfree-mail.example',
    );
    expect(await field(page.getByTestId('policy-exchange'), '自動削除までの日数').inputValue()).toBe('3');
    expect(problems).toEqual([]);
  });
});

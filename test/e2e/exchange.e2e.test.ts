/**
 * File exchange in a real browser against a real `kura serve` (job worker on, clamd scanning), with
 * the one-time codes and links read from an in-process SMTP server (STARTTLS, its own CA):
 * (a) a staff member creates an upload request on the LGWAN zone; the outside party opens the link on
 *     the internet zone, verifies the mailed code, uploads a macro-enabled Word document and gets a
 *     receipt with its SHA-256; the staff member downloads the sanitised .docx from 受信箱 on LGWAN.
 * (b) a staff member sends a file to an outside address through the confirmation step; the approver
 *     approves it on 承認待ち; the outside party verifies the code and downloads the file; the sender
 *     receives the download notification by mail. A file labelled 特定個人情報 is refused.
 * The scenarios build on each other and run in order.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { writeDefaultConfig } from '../../src/app/bootstrap.js';
import { generateSelfSignedCertificate } from '../../src/crypto/certificates.js';
import { startKura, type RunningKura } from '../support/cli.js';
import { docm } from '../support/office-fixtures.js';
import { expectNoSeriousA11yViolations } from './support/a11y.js';
import { launchChromium } from './support/browser.js';
import { Browsers, createUserLink, expectHeading, field, nav, setupLinkIn, type Person } from './support/people.js';
import { ensureWebBuilt } from './support/web-ui.js';

const TENANT = 'demo-city';
const CLAMD = process.env.KURA_TEST_CLAMD ?? 'tcp://127.0.0.1:3311';
const PASSWORDS = { admin: 'Hinoki-Tsubame-2718', tanaka: 'Momiji-Kawasemi-3141', sato: 'Keyaki-Shijukara-5772' };
const CITIZEN = 'hanako.yamada@citizen.example.jp';
const PARTNER = 'taro.suzuki@partner.example.co.jp';
const TANAKA_MAIL = 'tanaka@city.example.lg.jp';

interface Mail {
  to: string;
  subject: string;
  text: string;
  secure: boolean;
}

let dir: string;
let env: Record<string, string>;
let kura: RunningKura | undefined;
let browser: Browser | undefined;
let smtp: SMTPServer | undefined;
const mails: Mail[] = [];
const people = new Browsers(() => browser!);
const state: { admin?: Person; tanaka?: Person; sato?: Person; docm?: Buffer } = {};

beforeAll(async () => {
  ensureWebBuilt();
  dir = mkdtempSync(join(tmpdir(), 'kura-e2e-exchange-'));
  const cert = await generateSelfSignedCertificate({
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    days: 2,
  });
  writeFileSync(join(dir, 'smtp-ca.pem'), cert.certPem);
  const server = new SMTPServer({
    key: cert.keyPem,
    cert: cert.certPem,
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onData(stream, session, cb) {
      simpleParser(stream).then(
        (mail) => {
          mails.push({
            to: String((mail.to as { text: string }).text),
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            secure: session.secure,
          });
          cb();
        },
        (err: Error) => cb(err),
      );
    },
  });
  smtp = server;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  env = {
    KURA_DATA_DIR: join(dir, 'data'),
    KURA_LOG_LEVEL: 'warn',
    KURA_JOBS: 'on',
    KURA_CLAMD: CLAMD,
    KURA_SMTP_HOST: 'localhost',
    KURA_SMTP_PORT: String((server.server.address() as AddressInfo).port),
    KURA_SMTP_CA_FILE: join(dir, 'smtp-ca.pem'),
    KURA_MAIL_FROM: 'Kura デモ市 <kura@city.example.lg.jp>',
  };
  const config = writeDefaultConfig(env, dir, { region: '東京都', facility: 'e2e' });
  writeFileSync(config!, `${readFileSync(config!, 'utf8')}jobs:\n  pollMs: 200\n`);
  kura = await startKura({ cwd: dir, env });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await people.close();
  await browser?.close();
  await kura?.stop();
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function base(zone: 'lgwan' | 'internet' = 'lgwan'): string {
  if (!kura) throw new Error('kura not started');
  return `https://127.0.0.1:${zone === 'lgwan' ? kura.lgwanPort : kura.internetPort}`;
}

function need<K extends keyof typeof state>(key: K): NonNullable<(typeof state)[K]> {
  const value = state[key];
  if (!value) throw new Error(`${key} is not set up`);
  return value as NonNullable<(typeof state)[K]>;
}

/** The newest mail to `to` whose text matches `pattern`, waiting for the job worker to send it. */
async function mailTo(to: string, pattern: RegExp, after = 0): Promise<{ mail: Mail; match: RegExpExecArray }> {
  let found: { mail: Mail; match: RegExpExecArray } | undefined;
  await expect
    .poll(
      () => {
        for (const mail of mails.slice(after).reverse()) {
          const match = mail.to.includes(to) ? pattern.exec(mail.text) : null;
          if (match) {
            found = { mail, match };
            return true;
          }
        }
        return false;
      },
      { timeout: 30_000 },
    )
    .toBe(true);
  return found!;
}

/** A link from a mail, on this test's internet listener (the mail names the configured host). */
function internetUrl(link: string): string {
  const u = new URL(link);
  return `${base('internet')}${u.pathname}`;
}

async function verifyWithMailedCode(page: Page, to: string): Promise<void> {
  const before = mails.length;
  await page.getByTestId('send-code').click();
  await page.getByTestId('code-sent').waitFor();
  const { match } = await mailTo(to, /確認コード：(\d{6})/, before);
  await page.getByTestId('code-input').fill(match[1]!);
  await page.getByTestId('verify-submit').click();
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function entries(buf: Buffer): Promise<string[]> {
  return new Promise((resolve, reject) =>
    yauzl.fromBuffer(buf, (err, zip) => {
      if (err) return reject(err);
      const names: string[] = [];
      zip.on('entry', (e: yauzl.Entry) => names.push(e.fileName));
      zip.on('end', () => resolve(names));
    }),
  );
}

/** Sets labels through the API from the signed-in page (the label editor has its own test). */
async function setLabels(page: Page, fileId: string, labels: string[]): Promise<number> {
  return page.evaluate(
    async ({ id, values }) => {
      const me = (await (await fetch('/api/v1/me')).json()) as { csrfToken: string };
      const r = await fetch(`/api/v1/files/${id}/labels`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken },
        body: JSON.stringify({ labels: values }),
      });
      return r.status;
    },
    { id: fileId, values: labels },
  );
}

describe('file exchange in the browser', () => {
  it('sets up an administrator, a staff member and an approver with mail addresses', async () => {
    state.admin = await people.setUp(setupLinkIn(kura!.stdout(), base()), PASSWORDS.admin, '管理者');
    const opts = { cwd: dir, env };
    state.tanaka = await people.setUp(
      await createUserLink(kura!, opts, {
        tenant: TENANT,
        login: 'tanaka',
        role: 'staff',
        name: '田中 太郎',
        email: TANAKA_MAIL,
      }),
      PASSWORDS.tanaka,
      '田中 太郎',
    );
    state.sato = await people.setUp(
      await createUserLink(kura!, opts, {
        tenant: TENANT,
        login: 'sato',
        role: 'approver',
        name: '佐藤 課長',
        email: 'sato@city.example.lg.jp',
      }),
      PASSWORDS.sato,
      '佐藤 課長',
    );
  });

  it('(a) request link → the outside party uploads a docm on the internet zone → the sanitised docx in 受信箱 on LGWAN [LG-03] [TLS-03] [TLS-04] [MAL-08]', async () => {
    const { page } = need('tanaka');
    await nav(page, '受け取り依頼').click();
    await expectHeading(page, '受け取り依頼');
    const form = page.getByTestId('request-form');
    await field(form, '件名').fill('補助金申請書類の提出');
    await field(form, '依頼先のメールアドレス').fill(CITIZEN);
    await expectNoSeriousA11yViolations(page, 'upload request page');
    await page.getByTestId('request-submit').click();
    await page.getByTestId('request-created').waitFor();
    const shown = await page.getByTestId('request-link').inputValue();
    expect(shown).toMatch(/\/x\/r\/[A-Za-z0-9_-]{43}$/);

    // The link reaches the citizen by mail (over TLS), with no code in it.
    const { mail, match } = await mailTo(CITIZEN, /(https:\/\/\S+\/x\/r\/[A-Za-z0-9_-]{43})/);
    expect(mail.secure).toBe(true);
    expect(mail.subject).toContain('補助金申請書類の提出');
    expect(match[1]).toBe(shown);

    // The outside party: no account, internet zone only.
    const citizen = await people.open(internetUrl(match[1]!));
    await citizen.getByTestId('ext-verify').waitFor();
    expect(await citizen.textContent('body')).not.toContain('補助金申請書類の提出');
    await verifyWithMailedCode(citizen, CITIZEN);
    await citizen.getByTestId('request-summary').waitFor();
    await expectHeading(citizen, /補助金申請書類の提出/);
    await expectNoSeriousA11yViolations(citizen, 'outside party upload page');

    state.docm = await docm();
    const path = join(dir, '申請書.docm');
    writeFileSync(path, state.docm);
    await citizen.getByTestId('ext-upload-input').setInputFiles(path);
    const item = citizen.locator('[data-testid="ext-upload-item"]').first();
    await expect.poll(() => item.getAttribute('data-status'), { timeout: 60_000 }).toBe('done');
    const receipt = citizen.getByTestId('receipt-row').first();
    await receipt.waitFor();
    expect(await receipt.textContent()).toContain('申請書.docm');
    expect(await citizen.getByTestId('receipt-table').textContent()).toContain(sha256(state.docm));
    // The same link on the LGWAN listener is refused.
    const lgwanTry = await citizen.request.get(`${base()}/api/v1/ext/requests/${match[1]!.split('/x/r/')[1]}`);
    expect(lgwanTry.status()).toBe(404);

    // The staff member is told by mail, and finds the sanitised file in 受信箱.
    await mailTo(TANAKA_MAIL, /申請書\.docm/);
    await nav(page, '受信箱').click();
    await expectHeading(page, '受信箱');
    const row = page.locator('[data-testid="inbox-row"]').filter({ hasText: '申請書.docm' });
    await expect
      .poll(
        async () => {
          await page.reload();
          await row.first().waitFor();
          return row.getByTestId('inbox-download').count();
        },
        { timeout: 90_000, interval: 2000 },
      )
      .toBeGreaterThan(0);
    await expectNoSeriousA11yViolations(page, 'inbox');
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByTestId('inbox-download').first().click()]);
    expect(download.suggestedFilename()).toBe('申請書.docx');
    const saved = join(dir, 'downloaded.docx');
    await download.saveAs(saved);
    const names = await entries(readFileSync(saved));
    expect(names).toContain('word/document.xml');
    expect(names.some((n) => /vbaProject/i.test(n))).toBe(false);
  });

  let fileId: string;
  const CONTENT = Buffer.from('令和8年度 業務委託契約書（案）\n契約金額：1,200,000 円\n');

  it('(b) share → approval → the outside party verifies the code and downloads → the sender gets the download mail [LG-03] [TLS-03] [TLS-04] [HR-05]', async () => {
    const { page } = need('tanaka');
    await nav(page, 'ファイル').click();
    await expectHeading(page, 'ファイル');
    await page.getByRole('button', { name: '新しいフォルダー' }).click();
    await field(page.getByTestId('name-dialog'), 'フォルダー名').fill('契約関係');
    await page.getByTestId('name-dialog').getByRole('button', { name: '作成する' }).click();
    const folderRow = page.locator('[data-testid="item-row"][data-name="契約関係"]');
    await folderRow.getByRole('rowheader').getByRole('link').click();
    await expectHeading(page, '契約関係');
    const path = join(dir, '契約書案.txt');
    writeFileSync(path, CONTENT);
    await page.getByTestId('upload-input').setInputFiles(path);
    const fileRow = page.locator('[data-testid="item-row"][data-name="契約書案.txt"]');
    await expect.poll(() => fileRow.getAttribute('data-state'), { timeout: 60_000 }).toBe('available');
    await fileRow.getByRole('rowheader').getByRole('link').click();
    await expectHeading(page, '契約書案.txt');
    fileId = new URL(page.url()).pathname.split('/').pop()!;

    await page.getByTestId('send-external').click();
    await expectHeading(page, '外部へ送信');
    await page.getByTestId('recipient-input').first().fill(PARTNER);
    await field(page, '利用目的').fill('委託契約書案の確認依頼');
    await page.getByTestId('send-preview').click();
    // The confirmation step names every external recipient and domain (TLS-03).
    await page.getByTestId('send-confirm').waitFor();
    expect(await page.getByTestId('confirm-domains').textContent()).toContain('partner.example.co.jp');
    expect(await page.getByTestId('confirm-recipients').textContent()).toContain(PARTNER);
    expect(await page.getByTestId('confirm-approval').textContent()).toContain('佐藤 課長');
    await expectNoSeriousA11yViolations(page, 'send confirmation step');
    await page.getByTestId('confirm-check').check();
    await page.getByTestId('send-submit').click();
    await page.getByTestId('send-done').waitFor();

    // Nothing reaches the partner before approval.
    await new Promise((r) => setTimeout(r, 1500));
    expect(mails.some((m) => m.to.includes(PARTNER))).toBe(false);

    const approver = need('sato').page;
    await mailTo('sato@city.example.lg.jp', /委託契約書案の確認依頼/);
    // お知らせ on the approver's home page says what awaits them and leads to the approvals list.
    await nav(approver, 'ホーム').click();
    await approver.reload(); // the approver has been on the home page since signing in
    const asked = approver.getByTestId('notices').locator('[data-testid="notice"][data-kind="exchange.approval_requested"]');
    await asked.waitFor();
    expect(await asked.getByTestId('notice-text').textContent()).toBe(
      '田中 太郎さんから外部送信の承認依頼が届いています（利用目的：委託契約書案の確認依頼）。',
    );
    await asked.getByRole('link', { name: '「承認待ち（外部送信）」を開く' }).click();
    await expectHeading(approver, '承認待ち（外部送信）');
    const card = approver.getByTestId('share-card').filter({ hasText: '委託契約書案の確認依頼' });
    await card.waitFor();
    expect(await card.textContent()).toContain(PARTNER);
    await expectNoSeriousA11yViolations(approver, 'approvals page');
    await card.getByTestId('approve-share').click();
    const dialog = approver.getByTestId('decision-dialog');
    await dialog.getByTestId('decision-comment').fill('確認しました。送信して問題ありません。');
    await dialog.getByTestId('decision-submit').click();
    await approver.getByTestId('approval-done').waitFor();

    // The partner gets the link (no file name, no content), then a code when opening it.
    const { mail, match } = await mailTo(PARTNER, /(https:\/\/\S+\/x\/s\/[A-Za-z0-9_-]{43})/);
    expect(mail.text).not.toContain('契約書案.txt');
    expect(mail.text).not.toContain('1,200,000');
    const partner = await people.open(internetUrl(match[1]!));
    await partner.getByTestId('ext-verify').waitFor();
    await verifyWithMailedCode(partner, PARTNER);
    await partner.getByTestId('ext-share-files').waitFor();
    expect(await partner.getByTestId('share-purpose').textContent()).toContain('委託契約書案の確認依頼');
    expect(await partner.getByTestId('ext-share-files').textContent()).toContain(sha256(CONTENT));
    await expectNoSeriousA11yViolations(partner, 'outside party download page');
    // The page asks for the share before a download starts, and again a moment after.
    let shareReads = 0;
    partner.on('response', (r) => {
      if (/\/api\/v1\/ext\/shares\/[^/]+$/.test(new URL(r.url()).pathname)) shareReads++;
    });
    const [download] = await Promise.all([partner.waitForEvent('download'), partner.getByTestId('ext-download').first().click()]);
    expect(download.suggestedFilename()).toBe('契約書案.txt');
    const saved = join(dir, 'partner-download.txt');
    await download.saveAs(saved);
    expect(readFileSync(saved).equals(CONTENT)).toBe(true);

    // Once the verification has lapsed (here: its cookie is gone) a download does not start, so the
    // server's error reply is not saved as a file: the page says why and asks for a code again.
    let downloads = 0;
    partner.on('download', () => downloads++);
    await expect.poll(() => shareReads, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    await partner.context().clearCookies();
    await partner.getByTestId('ext-download').first().click();
    const refused = partner.getByTestId('ext-download-error');
    await refused.waitFor();
    expect(await refused.getAttribute('data-state')).toBe('exchange.verification_required');
    expect(await refused.textContent()).toContain('ダウンロードを開始できませんでした');
    await partner.getByTestId('ext-verify').waitFor();
    expect(downloads).toBe(0);

    // The sender is told by mail.
    const told = await mailTo(TANAKA_MAIL, /ダウンロードしました/);
    expect(told.mail.text).toContain(PARTNER);
    expect(told.mail.text).toContain('契約書案.txt');
    // お知らせ: the approval and the download, in words, not as codes.
    await nav(page, 'ホーム').click();
    const notices = page.getByTestId('notices');
    const downloaded = notices.locator('[data-testid="notice"][data-kind="exchange.downloaded"]');
    await downloaded.waitFor();
    expect(await downloaded.getByTestId('notice-text').textContent()).toBe(
      `送信先（${PARTNER}）が「契約書案.txt」をダウンロードしました。`,
    );
    expect(await notices.locator('[data-kind="exchange.share_decided"]').getByTestId('notice-text').textContent()).toBe(
      '外部送信（利用目的：委託契約書案の確認依頼）が承認され、送信先にお知らせしました。',
    );
    // 送信済み shows the download per recipient.
    await nav(page, '送信済み').click();
    await expectHeading(page, '送信済み');
    const sent = page.getByTestId('share-card').filter({ hasText: '委託契約書案の確認依頼' });
    await expect
      .poll(async () => (await sent.getByTestId('recipient-downloads').textContent()) ?? '', { timeout: 15_000 })
      .toContain('1');
  });

  it('refuses to send a file labelled 特定個人情報 to outside parties [PII-01] [LG-03]', async () => {
    const { page } = need('tanaka');
    expect(await setLabels(page, fileId, ['特定個人情報'])).toBe(200);
    await page.goto(`${base()}/exchange/send?files=${fileId}`);
    await expectHeading(page, '外部へ送信');
    await page.getByTestId('recipient-input').first().fill(PARTNER);
    await field(page, '利用目的').fill('再送');
    await page.getByTestId('send-preview').click();
    await expect
      .poll(() => page.getByRole('alert').allTextContents(), { timeout: 15_000 })
      .toEqual(expect.arrayContaining([expect.stringContaining('特定個人情報')]));
    expect(await page.getByTestId('send-confirm').count()).toBe(0);
    expect(people.problems).toEqual([]);
  });
});

/**
 * Mail texts (TLS-04), Japanese and English. Plain text only; a mail never carries file content,
 * passwords or a link that works without signing in — it names the file and points to Kura.
 */
export type MailLang = 'ja' | 'en';

interface Template {
  subject: (p: Record<string, string>) => string;
  body: (p: Record<string, string>) => string;
}

const FOOTER = {
  ja: (p: Record<string, string>) =>
    `\n\nKura にログインして確認してください：${p.url}\n\n※このメールは Kura（蔵）から自動送信されています。返信はできません。`,
  en: (p: Record<string, string>) =>
    `\n\nSign in to Kura to see the details: ${p.url}\n\nThis is an automatic message from Kura; replies are not read.`,
};

const TEMPLATES: Record<string, Record<MailLang, Template>> = {
  'file.quarantined': {
    ja: {
      subject: () => '【Kura】ウイルスを検出したファイルを隔離しました',
      body: (p) =>
        `ファイル「${p.name}」（第${p.version}版）からウイルス（${p.signature}）を検出したため、隔離しました。` +
        `\nこのファイルはダウンロード・共有できません。解除や削除は管理者が「隔離・保留ファイル」で行います。`,
    },
    en: {
      subject: () => '[Kura] A file was quarantined: malware found',
      body: (p) =>
        `Malware (${p.signature}) was found in "${p.name}" (version ${p.version}); the file has been quarantined.` +
        `\nIt cannot be downloaded or shared. Administrators release or delete it on the quarantine page.`,
    },
  },
  'file.blocked': {
    ja: {
      subject: () => '【Kura】受け付けられない種類のファイルです',
      body: (p) =>
        `ファイル「${p.name}」（第${p.version}版）は、組織の設定により受け付けられない種類のため、利用できません（理由：${p.reason}）。`,
    },
    en: {
      subject: () => '[Kura] A file of a blocked type',
      body: (p) => `"${p.name}" (version ${p.version}) is of a type your organisation does not accept (${p.reason}).`,
    },
  },
  'file.held_for_review': {
    ja: {
      subject: () => '【Kura】ファイルが管理者の確認待ちになりました',
      body: (p) =>
        `ファイル「${p.name}」（第${p.version}版）は確認が必要なため保留しました（理由：${p.reason}）。管理者の確認後に利用できます。`,
    },
    en: {
      subject: () => '[Kura] A file is held for review',
      body: (p) => `"${p.name}" (version ${p.version}) is held until an administrator reviews it (${p.reason}).`,
    },
  },
  test: {
    ja: {
      subject: () => '【Kura】テストメール',
      body: (p) => `${p.tenant} からのテストメールです。メールの送信設定は有効です。`,
    },
    en: { subject: () => '[Kura] Test mail', body: (p) => `A test mail from ${p.tenant}: outgoing mail works.` },
  },
};

export const MAIL_TEMPLATES = Object.keys(TEMPLATES);

export function renderMail(template: string, lang: MailLang, params: Record<string, string>): { subject: string; body: string } {
  const t = TEMPLATES[template]?.[lang];
  if (!t) throw new Error(`no mail template ${template}/${lang}`);
  // One line per header: a parameter can never add a header or break the subject.
  const clean = Object.fromEntries(
    Object.entries(params).map(([k, v]) => [
      k,
      String(v)
        .replace(/[\r\n]+/g, ' ')
        .slice(0, 500),
    ]),
  );
  return { subject: t.subject(clean), body: t.body(clean) + FOOTER[lang](clean) };
}

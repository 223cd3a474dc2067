/**
 * Mail texts (TLS-04), Japanese and English. Plain text only; a mail never carries file content,
 * passwords or a link that works without signing in — it names the file and points to Kura.
 */
export type MailLang = 'ja' | 'en';

interface Template {
  subject: (p: Record<string, string>) => string;
  body: (p: Record<string, string>) => string;
}

/** Mails to outside parties: they have no Kura account, so no sign-in footer. */
const EXTERNAL = new Set(['exchange.request_link', 'exchange.share_link', 'exchange.code']);
/** Mails whose body carries a one-time code or a link: removed from the outbox once delivered. */
const SECRET = new Set(['exchange.request_link', 'exchange.share_link', 'exchange.code']);

export function isSecretTemplate(template: string): boolean {
  return SECRET.has(template);
}

const EXTERNAL_FOOTER = {
  ja: (p: Record<string, string>) =>
    `\n\n※このメールは ${p.organization || 'Kura'} のファイル交換サービス Kura（蔵）から自動送信されています。心当たりのない場合は破棄してください。`,
  en: (p: Record<string, string>) =>
    `\n\nThis is an automatic message from Kura, the file exchange service of ${p.organization || 'the sender'}. If you did not expect it, please delete it.`,
};

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
  // ---- file exchange (LG-03, TLS-04): no file content, no passwords; links need a one-time code ----
  'exchange.request_link': {
    ja: {
      subject: (p) => `【${p.organization}】ファイル提出のお願い：${p.title}`,
      body: (p) =>
        `${p.organization} の ${p.sender} から、ファイルの提出依頼が届いています。\n\n件名：${p.title}\n提出期限：${p.expires}\n\n` +
        `次のページからファイルをアップロードしてください。\n${p.link}\n` +
        (p.code ? `\nページを開くと、本人確認のための確認コードをこのアドレスに別のメールでお送りします。` : ''),
    },
    en: {
      subject: (p) => `[${p.organization}] Request for files: ${p.title}`,
      body: (p) =>
        `${p.sender} of ${p.organization} asks you to send files.\n\nSubject: ${p.title}\nDue: ${p.expires}\n\n` +
        `Upload your files on this page:\n${p.link}\n` +
        (p.code ? `\nWhen you open it, a verification code is sent to this address in a separate mail.` : ''),
    },
  },
  'exchange.share_link': {
    ja: {
      subject: (p) => `【${p.organization}】ファイルが届いています（${p.sender}）`,
      body: (p) =>
        `${p.organization} の ${p.sender} から、ファイル ${p.count} 件が共有されました。\n\n利用目的：${p.purpose}\n受け取り期限：${p.expires}\n\n` +
        `次のページで${p.verification === 'code' ? '確認コードを入力して' : '送信者から別途伝えられたパスワードを入力して'}受け取ってください。\n${p.link}\n` +
        (p.verification === 'code' ? `\n確認コードは、ページを開いたときにこのアドレスへ別のメールでお送りします。` : ''),
    },
    en: {
      subject: (p) => `[${p.organization}] Files for you from ${p.sender}`,
      body: (p) =>
        `${p.sender} of ${p.organization} shared ${p.count} file(s) with you.\n\nPurpose: ${p.purpose}\nAvailable until: ${p.expires}\n\n` +
        `Open this page and ${p.verification === 'code' ? 'enter the verification code' : 'enter the password the sender gave you separately'}:\n${p.link}\n` +
        (p.verification === 'code' ? `\nThe code is sent to this address in a separate mail when you open the page.` : ''),
    },
  },
  'exchange.code': {
    ja: {
      subject: () => '【Kura】確認コード',
      body: (p) =>
        `確認コード：${p.code}\n\nこのコードは 10 分間有効です。ご自身で操作していない場合は、このメールを破棄してください。`,
    },
    en: {
      subject: () => '[Kura] Verification code',
      body: (p) => `Verification code: ${p.code}\n\nIt is valid for 10 minutes. If you did not ask for it, delete this mail.`,
    },
  },
  'exchange.request_received': {
    ja: {
      subject: (p) => `【Kura】ファイルを受け取りました：${p.title}`,
      body: (p) =>
        `受け取り依頼「${p.title}」に、ファイル「${p.name}」が提出されました。\nウイルス検査と無害化の後、受信箱から利用できます。`,
    },
    en: {
      subject: (p) => `[Kura] A file arrived: ${p.title}`,
      body: (p) => `"${p.name}" was uploaded for your request "${p.title}". It is in your inbox once scanned and sanitised.`,
    },
  },
  'exchange.approval_requested': {
    ja: {
      subject: (p) => `【Kura】外部送信の承認依頼（${p.sender}）`,
      body: (p) =>
        `${p.sender} さんから、外部へのファイル送信の承認依頼が届いています。\n\n利用目的：${p.purpose}\n送信先：${p.domains}\nファイル数：${p.count}\n\n` +
        `「承認待ち」で内容を確認し、承認または却下してください（期限：${p.expires}）。`,
    },
    en: {
      subject: (p) => `[Kura] Approval requested for an external share (${p.sender})`,
      body: (p) =>
        `${p.sender} asks you to approve sending files outside.\n\nPurpose: ${p.purpose}\nRecipients' domains: ${p.domains}\nFiles: ${p.count}\n\n` +
        `Review it under "Approvals" and approve or reject it (by ${p.expires}).`,
    },
  },
  'exchange.share_decided': {
    ja: {
      subject: (p) => `【Kura】外部送信が${p.decision === 'approved' ? '承認' : '却下'}されました`,
      body: (p) =>
        `利用目的「${p.purpose}」の外部送信が${p.decision === 'approved' ? '承認され、受信者に案内を送りました' : '却下されました'}。` +
        (p.comment ? `\n\nコメント：${p.comment}` : ''),
    },
    en: {
      subject: (p) => `[Kura] Your external share was ${p.decision}`,
      body: (p) =>
        `Your share "${p.purpose}" was ${p.decision === 'approved' ? 'approved; the recipients have been notified' : 'rejected'}.` +
        (p.comment ? `\n\nComment: ${p.comment}` : ''),
    },
  },
  'exchange.downloaded': {
    ja: {
      subject: () => `【Kura】送信したファイルがダウンロードされました`,
      body: (p) => `${p.recipient} さんが、ファイル「${p.name}」をダウンロードしました（${p.at}）。\n利用目的：${p.purpose}`,
    },
    en: {
      subject: () => '[Kura] A file you sent was downloaded',
      body: (p) => `${p.recipient} downloaded "${p.name}" (${p.at}).\nPurpose: ${p.purpose}`,
    },
  },
  'exchange.expired': {
    ja: {
      subject: () => '【Kura】外部送信の承認依頼が期限切れになりました',
      body: (p) =>
        `利用目的「${p.purpose}」の外部送信は、期限までに承認されなかったため取り消されました。必要であれば、もう一度送信してください。`,
    },
    en: {
      subject: () => '[Kura] An approval request expired',
      body: (p) =>
        `Your share "${p.purpose}" was not approved in time and has been withdrawn. Send it again if it is still needed.`,
    },
  },
  'exchange.deletion_notice': {
    ja: {
      subject: () => '【Kura】交換したファイルは明日削除されます',
      body: (p) =>
        `${p.what}「${p.title}」のファイルは ${p.date} に自動的に削除されます。` +
        `\n残す必要があるファイルは、それまでに別のフォルダへコピーしてください。`,
    },
    en: {
      subject: () => '[Kura] Exchanged files will be deleted tomorrow',
      body: (p) =>
        `The files of ${p.what} "${p.title}" are deleted automatically on ${p.date}.\nCopy any file you need to keep to another folder before then.`,
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
  const footer = EXTERNAL.has(template) ? EXTERNAL_FOOTER[lang] : FOOTER[lang];
  return { subject: t.subject(clean), body: t.body(clean) + footer(clean) };
}

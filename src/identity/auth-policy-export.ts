/**
 * The effective authentication policy as a document the municipality attaches to its 運用管理規定
 * (AC-14, MIC Ⅱ.4.4.5): Japanese wording, the password validity period always stated, versioned by
 * the number of policy changes and a hash of the content.
 */
import canonicalize from 'canonicalize';
import { existsSync } from 'node:fs';
import { AppError } from '../core/errors.js';
import { sha256Hex } from '../crypto/primitives.js';
import { ARGON2_PARAMS } from '../crypto/password-hash.js';
import { TOTP_DIGITS, TOTP_PERIOD_S } from '../crypto/totp.js';
import { MFA_MANDATORY_ROLES, type TenantSettings } from '../tenants/tenant-settings.js';

export interface PolicyItem {
  label: string;
  value: string;
}
export interface PolicySection {
  title: string;
  items: PolicyItem[];
}
export interface AuthPolicyDocument {
  documentType: 'kura-auth-policy';
  title: string;
  tenant: { slug: string; displayName: string };
  version: number;
  contentHash: string;
  generatedAt: string;
  sections: PolicySection[];
  settings: Pick<TenantSettings, 'password' | 'session' | 'mfa' | 'ipRules' | 'twoPersonRule' | 'inactivity'>;
}

const ROLE_JA: Record<string, string> = {
  tenant_admin: '管理者',
  auditor: '監査担当',
  approver: '承認者（上長）',
  staff: '職員',
  guest: '外部利用者',
};
const ZONE_JA: Record<string, string> = { lgwan: 'LGWAN 系', internet: 'インターネット系' };

/** The wording for a validity period; 0 is stated explicitly, never left blank (Ⅱ.4.4.5). */
export function validityText(days: number, warningDays: number): string {
  return days === 0
    ? '0日 = 期限なし（漏えい・侵害の疑い時に強制変更）'
    : `${days}日（期限の ${warningDays} 日前から警告、期限後は変更するまで利用不可）`;
}

export function buildAuthPolicyDocument(
  tenant: { slug: string; displayName: string },
  s: TenantSettings,
  version: number,
  generatedAt: string,
): AuthPolicyDocument {
  const p = s.password;
  const settings = {
    password: s.password,
    session: s.session,
    mfa: s.mfa,
    ipRules: s.ipRules,
    twoPersonRule: s.twoPersonRule,
    inactivity: s.inactivity,
  };
  const sections: PolicySection[] = [
    {
      title: 'パスワード',
      items: [
        { label: '最小文字数（多要素認証を利用する場合）', value: `${p.minLengthWithMfa}文字` },
        { label: '最小文字数（パスワードのみの場合）', value: `${p.minLengthPasswordOnly}文字` },
        { label: '最大文字数', value: `${p.maxLength}文字（超える入力は切り詰めずに拒否）` },
        {
          label: '文字種の条件',
          value:
            p.characterClasses === 0
              ? 'なし（NIST SP 800-63B-4 に準拠）'
              : `英小文字・英大文字・数字・記号のうち ${p.characterClasses} 種類以上`,
        },
        {
          label: '禁止パスワード',
          value: '漏えい・頻出パスワード一覧（49,233件）、サービス名・団体名・ログインID・氏名を含むもの（解除不可）',
        },
        { label: '履歴（再利用禁止）', value: p.history === 0 ? 'なし' : `直近 ${p.history} 回` },
        { label: 'パスワードの有効期限', value: validityText(p.validityDays, p.expiryWarningDays) },
        {
          label: 'アカウントロック',
          value: `${p.lockoutThreshold} 回連続で失敗するとロック（1分から倍々に延長、最長24時間）。管理者による解除または時間経過で解除`,
        },
        {
          label: 'パスワードの保存方式',
          value: `Argon2id（メモリ ${Math.round(ARGON2_PARAMS.memoryCost / 1024)} MiB、反復 ${ARGON2_PARAMS.timeCost} 回、並列度 ${ARGON2_PARAMS.parallelism}）、ソルト付き`,
        },
        {
          label: '初回・再設定',
          value: '72時間有効・1回限りの設定リンクで本人が設定。管理者は必要時に次回ログイン時の変更を要求可能',
        },
      ],
    },
    {
      title: '多要素認証',
      items: [
        {
          label: '対象',
          value: s.mfa.requiredForAll
            ? '全利用者に必須'
            : `${MFA_MANDATORY_ROLES.map((r) => ROLE_JA[r]).join('・')}に必須（その他は任意）`,
        },
        {
          label: '方式',
          value: `TOTP（RFC 6238、${TOTP_DIGITS}桁、${TOTP_PERIOD_S}秒、HMAC-${s.mfa.totpAlgorithm === 'SHA256' ? 'SHA-256' : 'SHA-1（互換性のための例外設定）'}）、使い捨てリカバリーコード10個`,
        },
      ],
    },
    {
      title: 'セッション',
      items: [
        { label: '無操作タイムアウト', value: `${s.session.idleMinutes}分` },
        { label: '最大継続時間', value: `${s.session.absoluteHours}時間` },
        {
          label: '再認証（ステップアップ）',
          value: `設定変更・利用者管理・エクスポートの前に、直近 ${s.session.stepUpMinutes} 分以内の再認証を要求`,
        },
      ],
    },
    {
      title: '接続元の制限',
      items:
        s.ipRules.length === 0
          ? [{ label: '接続元 IP アドレス', value: '制限なし' }]
          : s.ipRules.map((r) => ({
              label: `${ZONE_JA[r.zone]}（${r.roles.length ? r.roles.map((x) => ROLE_JA[x]).join('・') : '全ロール'}）`,
              value: r.cidrs.join(', '),
            })),
    },
    {
      title: '利用者の登録・削除',
      items: [
        { label: '二者承認', value: s.twoPersonRule ? '有効（登録者と異なる管理者の承認が必要）' : '無効' },
        {
          label: '長期未使用アカウント',
          value: `${s.inactivity.days}日ログインがない場合に一覧表示${s.inactivity.autoSuspend ? '、自動で利用停止' : ''}`,
        },
        { label: 'ログインIDの再利用', value: '削除済みのログインIDは再利用しない' },
      ],
    },
  ];
  const contentHash = sha256Hex(canonicalize({ tenant: tenant.slug, settings })!);
  return {
    documentType: 'kura-auth-policy',
    title: '認証に関する運用管理規定（設定値）',
    tenant,
    version,
    contentHash,
    generatedAt,
    sections,
    settings,
  };
}

const FONT_CANDIDATES: Array<[string, string | undefined]> = [
  ['/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', 'NotoSansCJKjp-Regular'],
  ['/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf', undefined],
  ['/usr/share/fonts/truetype/fonts-japanese-gothic.ttf', undefined],
];

/** Renders the document as an A4 PDF with a Japanese font installed on the machine (fonts-noto-cjk). */
export async function renderAuthPolicyPdf(doc: AuthPolicyDocument): Promise<Buffer> {
  const font = FONT_CANDIDATES.find(([path]) => existsSync(path));
  if (!font) throw new AppError('export.font_unavailable', 'install fonts-noto-cjk');
  // Loaded on first use: pdfkit and its font engine take several MB of heap that a file server
  // should not carry for an export run now and then.
  const { default: PDFDocument } = await import('pdfkit');
  const pdf = new PDFDocument({
    size: 'A4',
    margin: 56,
    info: { Title: doc.title, Author: 'Kura', Subject: `${doc.tenant.displayName} v${doc.version}` },
  });
  const chunks: Buffer[] = [];
  pdf.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  pdf.registerFont('jp', font[0], font[1]);
  pdf.font('jp');
  pdf.fontSize(16).text(doc.title);
  pdf.moveDown(0.5).fontSize(10).text(`${doc.tenant.displayName}（${doc.tenant.slug}）`);
  pdf.text(`版: 第${doc.version}版\u3000作成日時: ${doc.generatedAt}（UTC）\u3000内容ハッシュ: ${doc.contentHash.slice(0, 16)}`);
  for (const section of doc.sections) {
    pdf.moveDown(1).fontSize(13).text(section.title);
    pdf.fontSize(10);
    for (const item of section.items) {
      pdf.moveDown(0.3).text(`■ ${item.label}`, { continued: false });
      pdf.text(`\u3000${item.value}`, { indent: 12 });
    }
  }
  pdf.moveDown(1.5).fontSize(8).text('この文書は Kura の稼働中の設定から生成されました。設定を変更すると版が上がります。');
  pdf.end();
  return done;
}

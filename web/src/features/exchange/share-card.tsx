/**
 * One share to outside recipients as a card: its state, 利用目的, sender, times, the files, every
 * recipient and domain with their download status, and the 上長承認 with each decision and comment.
 * Used by 送信済み (the sender's view) and 承認待ち (the approver's, with links to look at each file).
 */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { currentLanguage } from '../../i18n/i18n';
import { Badge } from '../../ui/badge';
import { headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { When } from '../files/file-bits';
import { formatBytes } from '../files/file-format';
import type { ShareDto } from './exchange.api';
import {
  approvalReasonText,
  listOf,
  ShareStateBadge,
  ShortSha256,
  summaryListClass,
  summaryTermClass,
  summaryValueClass,
} from './exchange-bits';

export function ShareCard({
  share,
  headingLevel = 'h2',
  showSender = false,
  fileLink,
  actions,
}: {
  share: ShareDto;
  headingLevel?: 'h2' | 'h3';
  showSender?: boolean;
  /** A link to look at a file (the approver's view); plain names when absent. */
  fileLink?: (file: ShareDto['files'][number]) => ReactNode;
  actions?: ReactNode;
}) {
  const { t } = useTranslation();
  const language = currentLanguage();
  const Heading = headingLevel;
  const headingId = `share-${share.id}`;
  const domains = [...new Set(share.recipients.map((r) => r.domain))];
  return (
    <article
      aria-labelledby={headingId}
      className="flex flex-col gap-5 rounded-8 border border-solid-gray-420 bg-white p-4 sm:p-6"
      data-testid="share-card"
      data-id={share.id}
      data-state={share.state}
    >
      <div className="flex flex-wrap items-start justify-between gap-3">
        <Heading id={headingId} className="min-w-0 flex-1 text-std-20B-150 break-words text-solid-gray-900">
          {share.purpose}
        </Heading>
        <ShareStateBadge state={share.state} />
      </div>
      <dl className={summaryListClass}>
        {showSender && (
          <>
            <dt className={summaryTermClass}>{t('exchange.sent.sender')}</dt>
            <dd className={summaryValueClass} data-testid="share-sender">
              {share.senderName}
            </dd>
          </>
        )}
        <dt className={summaryTermClass}>{t('exchange.sent.domains')}</dt>
        <dd className={`${summaryValueClass} font-bold`} data-testid="share-domains">
          {listOf(t, domains)}
        </dd>
        <dt className={summaryTermClass}>{t('exchange.sent.createdAt')}</dt>
        <dd className={summaryValueClass}>
          <When iso={share.createdAt} />
        </dd>
        {share.activatedAt && (
          <>
            <dt className={summaryTermClass}>{t('exchange.sent.activatedAt')}</dt>
            <dd className={summaryValueClass}>
              <When iso={share.activatedAt} />
            </dd>
          </>
        )}
        <dt className={summaryTermClass}>{t('exchange.col.expiresAt')}</dt>
        <dd className={summaryValueClass}>
          <When iso={share.expiresAt} />
        </dd>
        {share.deleteAt && (
          <>
            <dt className={summaryTermClass}>{t('exchange.col.deleteAt')}</dt>
            <dd className={summaryValueClass}>
              <When iso={share.deleteAt} />
            </dd>
          </>
        )}
        <dt className={summaryTermClass}>{t('exchange.send.fields.maxDownloads')}</dt>
        <dd className={summaryValueClass}>
          {share.maxDownloads === null || share.maxDownloads === undefined
            ? t('exchange.send.unlimited')
            : t('exchange.send.timesPerFile', { count: share.maxDownloads })}
        </dd>
        <dt className={summaryTermClass}>{t('exchange.send.fields.verification')}</dt>
        <dd className={summaryValueClass}>{t(`exchange.verification.${share.verification}`)}</dd>
        {share.message && (
          <>
            <dt className={summaryTermClass}>{t('exchange.send.fields.message')}</dt>
            <dd className={`${summaryValueClass} whitespace-pre-wrap`}>{share.message}</dd>
          </>
        )}
      </dl>

      <div className="flex flex-col gap-2">
        <p className="text-std-17B-170 text-solid-gray-900">{t('exchange.sent.filesTitle', { count: share.files.length })}</p>
        <ul className="flex flex-col gap-2" data-testid="share-files">
          {share.files.map((f) => (
            <li key={f.fileId} className="flex flex-wrap items-center gap-x-4 gap-y-1 text-std-16N-170" data-name={f.name}>
              <span className="font-bold break-all">{f.name}</span>
              <span className="text-solid-gray-700">{formatBytes(f.size, language)}</span>
              <ShortSha256 value={f.sha256} />
              {fileLink?.(f)}
            </li>
          ))}
        </ul>
      </div>

      <div className="overflow-x-auto">
        <table className="w-full text-std-16N-170" data-testid="share-recipients">
          <caption className="mb-2 text-start text-std-17B-170 text-solid-gray-900">
            {t('exchange.sent.recipientsTitle', { count: share.recipients.length })}
          </caption>
          <thead>
            <tr className={headRowClass}>
              <th scope="col" className={`${thClass} whitespace-nowrap`}>
                {t('exchange.sent.col.email')}
              </th>
              <th scope="col" className={`${thClass} whitespace-nowrap`}>
                {t('exchange.sent.col.verified')}
              </th>
              <th scope="col" className={`${thClass} whitespace-nowrap text-end`}>
                {t('exchange.sent.col.downloads')}
              </th>
              <th scope="col" className={`${thClass} whitespace-nowrap`}>
                {t('exchange.sent.col.lastDownload')}
              </th>
            </tr>
          </thead>
          <tbody>
            {share.recipients.map((r) => (
              <tr key={r.id} className={rowClass} data-testid="share-recipient" data-email={r.email}>
                <th scope="row" className={`${thClass} font-normal break-all`}>
                  {r.email}
                </th>
                <td className={tdClass}>
                  {r.verifiedAt ? (
                    <>
                      <Badge tone="success">{t('exchange.sent.verified')}</Badge>
                      <span className="mt-1 block text-dns-14N-130 text-solid-gray-700">
                        <When iso={r.verifiedAt} short />
                      </span>
                    </>
                  ) : (
                    <Badge tone="neutral">{t('exchange.sent.notVerified')}</Badge>
                  )}
                </td>
                <td className={`${tdClass} text-end`} data-testid="recipient-downloads">
                  {t('exchange.sent.downloadsCount', { count: r.downloads })}
                </td>
                <td className={tdClass}>
                  <When iso={r.lastDownloadAt} short />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <ApprovalSummary share={share} />
      {actions && <div className="flex flex-wrap gap-3">{actions}</div>}
    </article>
  );
}

function ApprovalSummary({ share }: { share: ShareDto }) {
  const { t } = useTranslation();
  const a = share.approval;
  if (!a.required) {
    return <p className="text-std-16N-170 text-solid-gray-800">{t('exchange.send.approvalNotRequired')}</p>;
  }
  return (
    <div className="flex flex-col gap-2 rounded-8 bg-solid-gray-50 px-4 py-3" data-testid="share-approval">
      <p className="text-std-17B-170 text-solid-gray-900">
        {t('exchange.sent.approvalTitle')}
        {a.mode && <span className="ml-2 text-std-16N-170">（{t(`exchange.sent.approvalMode.${a.mode}`)}）</span>}
      </p>
      {a.reasons.length > 0 && (
        <p className="text-std-16N-170">
          {t('exchange.send.approvalReasons', {
            reasons: listOf(
              t,
              a.reasons.map((r) => approvalReasonText(t, r)),
            ),
          })}
        </p>
      )}
      {share.state === 'pending' && a.expiresAt && (
        <p className="text-std-16N-170">
          {t('exchange.sent.approvalExpires')} <When iso={a.expiresAt} />
        </p>
      )}
      {a.decisions.length === 0 ? (
        <p className="text-std-16N-170">{t('exchange.sent.noDecisions')}</p>
      ) : (
        <ul className="flex flex-col gap-2" data-testid="share-decisions">
          {a.decisions.map((d, i) => (
            <li key={`${d.approverName}-${i}`} className="text-std-16N-170" data-decision={d.decision}>
              <span className="font-bold">
                {t(d.decision === 'approve' ? 'exchange.sent.decisionApprove' : 'exchange.sent.decisionReject', {
                  name: d.approverName,
                })}
              </span>
              <span className="ml-2 text-dns-14N-130 text-solid-gray-700">
                <When iso={d.decidedAt} short />
              </span>
              {d.comment && (
                <span className="block whitespace-pre-wrap break-words">
                  {t('exchange.sent.comment', { comment: d.comment })}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

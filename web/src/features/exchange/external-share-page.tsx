/**
 * `/x/s/<token>`: a recipient outside the organisation receives files (TLS-04). Nothing is shown
 * before the recipient proves the link is theirs: a one-time code mailed to their address, or the
 * password the sender passed on separately for password-only links. Then: who sends, from which
 * organisation, for what purpose, until when, and each file with its size, SHA-256 (to check the
 * download) and the downloads left, as plain download links so the browser streams them. Before a
 * download starts the page asks for the share again (which counts nothing; a request for the file
 * from byte 0, even a one-byte range, counts as a download): when the verification has lapsed, the
 * link was revoked or the file's limit is reached, it shows why and refreshes the view instead of
 * letting the browser save the server's error reply as a file.
 *
 * Every dead link (expired, revoked, over its limit, unknown) shows the same neutral page.
 */
import { useCallback, useEffect, useRef, useState, type MouseEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { currentLanguage } from '../../i18n/i18n';
import { headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { ErrorBanner } from '../../ui/messages';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { When } from '../files/file-bits';
import { formatBytes } from '../files/file-format';
import { extShareFileUrl, fetchExtShare, sendExtShareCode, verifyExtShare, type ExtShare } from './exchange.api';
import { downloadLinkClass, FullSha256, summaryListClass, summaryTermClass, summaryValueClass } from './exchange-bits';
import { ExternalFrame, InvalidLink, LoadFailed } from './external-frame';
import { ExternalVerify } from './external-verify';

type Load = { kind: 'loading' } | { kind: 'invalid' } | { kind: 'error'; code: string } | { kind: 'ready'; data: ExtShare };

/** After a download starts, the page asks again for the downloads left. */
const REFRESH_AFTER_DOWNLOAD_MS = 3000;

export function ExternalSharePage({ token }: { token: string }) {
  const { t } = useTranslation();
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const reload = useCallback(async () => {
    try {
      setLoad({ kind: 'ready', data: await fetchExtShare(token) });
    } catch (err) {
      const code = errorCode(err);
      setLoad(code === 'exchange.not_found' ? { kind: 'invalid' } : { kind: 'error', code });
    }
  }, [token]);
  useEffect(() => {
    void reload();
  }, [reload]);
  const [refused, setRefused] = useState<{ code: string; n: number } | null>(null);
  const refuse = useCallback(
    async (code: string) => {
      setRefused((r) => ({ code, n: (r?.n ?? 0) + 1 }));
      await reload();
    },
    [reload],
  );

  let content;
  if (load.kind === 'invalid') content = <InvalidLink />;
  else if (load.kind === 'error') content = <LoadFailed code={load.code} onRetry={() => void reload()} />;
  else if (load.kind === 'loading')
    content = (
      <p className="text-std-16N-170" role="status">
        {t('app.loading')}
      </p>
    );
  else if (!load.data.verified)
    content = (
      <ExternalVerify
        kind={load.data.verification}
        emailHint={load.data.emailHint}
        heading={t('exchange.ext.share.verifyTitle')}
        onSendCode={() => sendExtShareCode(token)}
        onVerify={async (proof) => {
          await verifyExtShare(token, proof);
          setRefused(null);
          await reload();
        }}
      />
    );
  else
    content = (
      <ShareView token={token} data={load.data} onDownloaded={reload} onRefused={refuse} onStarted={() => setRefused(null)} />
    );

  const organization = load.kind === 'ready' && load.data.verified ? load.data.organization : null;
  return (
    <ExternalFrame organization={organization}>
      {refused && load.kind === 'ready' && (
        <div className="mb-6">
          <ErrorBanner
            key={refused.n}
            title={t('exchange.ext.share.downloadRefusedTitle')}
            code={refused.code}
            data-testid="ext-download-error"
          />
        </div>
      )}
      {content}
    </ExternalFrame>
  );
}

type Verified = Extract<ExtShare, { verified: true }>;

const isExhausted = (f: Verified['files'][number]) =>
  f.downloadsLeft !== null && f.downloadsLeft !== undefined && f.downloadsLeft <= 0;

/** Lets the browser save `href` (same origin) as a download, streaming it. */
function saveFrom(href: string) {
  const a = document.createElement('a');
  a.href = href;
  a.download = '';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
}

function ShareView({
  token,
  data,
  onDownloaded,
  onRefused,
  onStarted,
}: {
  token: string;
  data: Verified;
  onDownloaded: () => Promise<void>;
  /** The download would be refused (the code says why): the page says so and loads the share again. */
  onRefused: (code: string) => Promise<void>;
  onStarted: () => void;
}) {
  const { t } = useTranslation();
  const language = currentLanguage();
  const title = t('exchange.ext.share.title', { organization: data.organization });
  useDocumentTitle(title);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => clearTimeout(timer.current ?? undefined), []);
  const downloaded = () => {
    clearTimeout(timer.current ?? undefined);
    timer.current = setTimeout(() => void onDownloaded(), REFRESH_AFTER_DOWNLOAD_MS);
  };
  const [checking, setChecking] = useState(false);
  async function start(event: MouseEvent<HTMLAnchorElement>, fileId: string) {
    event.preventDefault();
    const href = event.currentTarget.href;
    if (checking) return;
    setChecking(true);
    try {
      const now = await fetchExtShare(token);
      if (!now.verified) return await onRefused('exchange.verification_required');
      const file = now.files.find((f) => f.fileId === fileId);
      if (!file || isExhausted(file)) return await onRefused('exchange.not_found');
      onStarted();
      saveFrom(href);
      downloaded();
    } catch (err) {
      await onRefused(errorCode(err));
    } finally {
      setChecking(false);
    }
  }
  return (
    <div className="flex flex-col gap-10">
      <div className="flex flex-col gap-4">
        <PageHeading>{title}</PageHeading>
        <dl className={summaryListClass} data-testid="share-summary">
          <dt className={summaryTermClass}>{t('exchange.ext.organization')}</dt>
          <dd className={summaryValueClass}>{data.organization}</dd>
          <dt className={summaryTermClass}>{t('exchange.ext.sender')}</dt>
          <dd className={summaryValueClass}>{data.senderName}</dd>
          <dt className={summaryTermClass}>{t('exchange.send.fields.purpose')}</dt>
          <dd className={`${summaryValueClass} whitespace-pre-wrap`} data-testid="share-purpose">
            {data.purpose}
          </dd>
          <dt className={summaryTermClass}>{t('exchange.col.expiresAt')}</dt>
          <dd className={summaryValueClass}>
            <When iso={data.expiresAt} />
          </dd>
        </dl>
        {data.message && (
          <blockquote
            className="whitespace-pre-wrap break-words rounded-8 border-l-4 border-blue-900 bg-solid-gray-50 px-4 py-3 text-std-16N-170"
            data-testid="share-message"
          >
            {data.message}
          </blockquote>
        )}
      </div>
      <section aria-labelledby="ext-files" className="flex flex-col gap-4">
        <SectionHeading id="ext-files">{t('exchange.ext.share.filesTitle', { count: data.files.length })}</SectionHeading>
        <p className="text-std-16N-170">{t('exchange.ext.share.filesLead')}</p>
        <div className="overflow-x-auto">
          <table className="w-full text-std-16N-170" data-testid="ext-share-files">
            <caption className="sr-only">{t('exchange.ext.share.filesTitle', { count: data.files.length })}</caption>
            <thead>
              <tr className={headRowClass}>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('exchange.col.fileName')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap text-end`}>
                  {t('files.col.size')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  SHA-256
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('exchange.ext.share.downloadsLeft')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('files.col.actions')}
                </th>
              </tr>
            </thead>
            <tbody>
              {data.files.map((f) => {
                const exhausted = isExhausted(f);
                return (
                  <tr key={f.fileId} className={rowClass} data-testid="ext-share-file" data-name={f.name}>
                    <th scope="row" className={`${thClass} font-normal break-all`}>
                      {f.name}
                    </th>
                    <td className={`${tdClass} whitespace-nowrap text-end`}>{formatBytes(f.size, language)}</td>
                    <td className={tdClass}>
                      <FullSha256 value={f.sha256} />
                    </td>
                    <td className={tdClass} data-testid="downloads-left">
                      {f.downloadsLeft === null || f.downloadsLeft === undefined
                        ? t('exchange.send.unlimited')
                        : t('exchange.ext.share.timesLeft', { count: f.downloadsLeft })}
                    </td>
                    <td className={tdClass}>
                      {exhausted ? (
                        <span className="text-std-16N-170">{t('exchange.ext.share.exhausted')}</span>
                      ) : (
                        <a
                          href={extShareFileUrl(token, f.fileId)}
                          download
                          className={downloadLinkClass}
                          onClick={(e) => void start(e, f.fileId)}
                          aria-disabled={checking || undefined}
                          data-testid="ext-download"
                        >
                          {t('files.download')}
                          <span className="sr-only">（{f.name}）</span>
                        </a>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <p className="text-std-16N-170">{t('exchange.ext.sha256Hint')}</p>
      </section>
    </div>
  );
}

/**
 * 受信箱 (`/exchange/inbox`, LG-03, MAL-08, HR-05): the files outside parties sent through the own
 * request links, with the request's subject, size, SHA-256, when it came, its state (検査待ち /
 * 無害化中 / 利用可能 / 隔離 / ブロック) and when the exchanged copy is deleted. Available files are
 * plain download links, so the browser streams them; on LGWAN the 無害化 version is delivered.
 * While a file waits for the scan or 無害化 the list is asked again every few seconds.
 */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { routeLink } from '../../app/router';
import { useDocumentTitle } from '../../app/use-document-title';
import { currentLanguage } from '../../i18n/i18n';
import { Button } from '../../ui/button';
import { headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { linkClass } from '../../ui/link';
import { ErrorBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';
import { DownloadsOffNote, When } from '../files/file-bits';
import { formatBytes } from '../files/file-format';
import { featureOn } from '../identity/identity.api';
import { useMe } from '../identity/session';
import { fetchInbox, inboxContentUrl, type InboxItem } from './exchange.api';
import { downloadLinkClass, InboxStateBadge, inboxView, ShortSha256 } from './exchange-bits';

/** How often the list is asked again while a file waits for the scan or 無害化. */
const POLL_MS = 5000;

export function InboxPage() {
  const { t } = useTranslation();
  const me = useMe();
  const zone = me.session.zone;
  const downloads = featureOn(me, 'downloads');
  const language = currentLanguage();
  useDocumentTitle(t('exchange.inbox.title'));
  const [items, setItems] = useState<InboxItem[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setItems(await fetchInbox());
      setLoadError(null);
    } catch (err) {
      setLoadError(errorCode(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const waiting = items?.some((i) => ['held', 'sanitising'].includes(inboxView(i, zone))) ?? false;
  useEffect(() => {
    if (!waiting) return;
    const timer = setTimeout(() => void load(), POLL_MS);
    return () => clearTimeout(timer);
  }, [waiting, items, load]);

  return (
    <div className="flex flex-col gap-8">
      <div className="flex flex-col gap-4">
        <PageHeading>{t('exchange.inbox.title')}</PageHeading>
        <p className="text-std-16N-170">{t('exchange.inbox.lead')}</p>
        {zone === 'lgwan' && (
          <p className="rounded-8 bg-blue-50 px-4 py-3 text-std-16N-170" data-testid="lgwan-sanitised-note">
            {t('exchange.inbox.lgwanNote')}
          </p>
        )}
        <p className="text-std-16N-170">
          <a className={linkClass} {...routeLink('/exchange/requests')}>
            {t('exchange.inbox.toRequests')}
          </a>
        </p>
      </div>
      {!downloads && <DownloadsOffNote />}
      {loadError && (
        <div className="flex flex-col gap-4">
          <ErrorBanner title={t('app.loadErrorTitle')} code={loadError} focus={false} />
          <div>
            <Button variant="outline" size="md" onClick={() => void load()}>
              {t('app.retry')}
            </Button>
          </div>
        </div>
      )}
      {items === null && !loadError && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {items && items.length === 0 && (
        <p className="text-std-16N-170" data-testid="inbox-empty">
          {t('exchange.inbox.none')}
        </p>
      )}
      {items && items.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-std-16N-170" data-testid="inbox-table">
            <caption className="sr-only">{t('exchange.inbox.caption')}</caption>
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
                  {t('exchange.inbox.col.receivedAt')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('exchange.col.state')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('exchange.col.deleteAt')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('files.col.actions')}
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((item) => {
                const view = inboxView(item, zone);
                return (
                  <tr key={item.fileId} className={rowClass} data-testid="inbox-row" data-name={item.name} data-state={view}>
                    <th scope="row" className={`${thClass} font-normal`}>
                      <span className="block break-all">{item.name}</span>
                      <span className="block text-dns-14N-130 text-solid-gray-700 break-all">
                        {t('exchange.inbox.col.request', { title: item.requestTitle })}
                      </span>
                    </th>
                    <td className={`${tdClass} whitespace-nowrap text-end`}>{formatBytes(item.size, language)}</td>
                    <td className={tdClass}>
                      <ShortSha256 value={item.sha256} />
                    </td>
                    <td className={tdClass}>
                      <When iso={item.uploadedAt} short />
                    </td>
                    <td className={tdClass}>
                      <InboxStateBadge view={view} />
                      {item.downloadedAt && (
                        <span className="mt-1 block text-dns-14N-130 text-solid-gray-700">
                          {t('exchange.inbox.downloadedAt')} <When iso={item.downloadedAt} short />
                        </span>
                      )}
                    </td>
                    <td className={tdClass}>{item.deleteAt ? <When iso={item.deleteAt} short /> : '—'}</td>
                    <td className={tdClass}>
                      {downloads && view === 'available' && (
                        <a
                          href={inboxContentUrl(item.fileId)}
                          download
                          className={downloadLinkClass}
                          data-testid="inbox-download"
                        >
                          {zone === 'lgwan' && item.sanitizeState ? t('malware.downloadSanitised') : t('files.download')}
                          <span className="sr-only">（{item.name}）</span>
                        </a>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {items && items.length > 0 && <p className="text-std-16N-170">{t('exchange.inbox.deleteNote')}</p>}
    </div>
  );
}

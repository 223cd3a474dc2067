/**
 * The tenant's mail outbox for tenant admins (TLS-04): every notification mail with its state —
 * sent, waiting, failed after the retries (with the server's reason), or waiting for SMTP to be
 * configured (embedded mode: the admin reads and forwards them here). A test mail proves the setup.
 */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode, getJson, postJson } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { Badge, type BadgeTone } from '../../ui/badge';
import { Button } from '../../ui/button';
import { headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';
import { When } from '../files/file-bits';

type MailState = 'queued' | 'sent' | 'failed' | 'unsent';

interface OutboxItem {
  id: string;
  to: string;
  template: string;
  subject: string;
  body: string;
  state: MailState;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

const TONE: Record<MailState, BadgeTone> = { queued: 'info', sent: 'success', failed: 'error', unsent: 'warning' };

export function MailOutboxPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('mailOutbox.title'));
  const [data, setData] = useState<{ configured: boolean; items: OutboxItem[] } | null>(null);
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [tested, setTested] = useState(0);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setData((await getJson('/api/v1/admin/mail/outbox')) as { configured: boolean; items: OutboxItem[] });
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function sendTest() {
    setBusy(true);
    try {
      await postJson('/api/v1/admin/mail/test');
      setTested((n) => n + 1);
      setFailure(null);
      await load();
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex flex-col gap-6">
      <PageHeading>{t('mailOutbox.title')}</PageHeading>
      <p className="text-std-16N-170">{t('mailOutbox.lead')}</p>
      {data && !data.configured && (
        <p
          className="rounded-8 border border-yellow-700 bg-yellow-50 p-4 text-std-16N-170"
          data-testid="mail-not-configured"
          role="note"
        >
          {t('mailOutbox.notConfigured')}
        </p>
      )}
      {failure && <ErrorBanner key={failure.n} title={t('mailOutbox.errorTitle')} code={failure.code} />}
      {tested > 0 && <SuccessBanner key={tested} title={t('mailOutbox.testQueued')} />}
      <div>
        <Button variant="outline" size="md" busy={busy} onClick={() => void sendTest()}>
          {t('mailOutbox.sendTest')}
        </Button>
      </div>
      {data === null && !failure && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {data && data.items.length === 0 && <p className="text-std-16N-170">{t('mailOutbox.none')}</p>}
      {data && data.items.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-std-16N-170" data-testid="mail-outbox">
            <caption className="sr-only">{t('mailOutbox.caption')}</caption>
            <thead>
              <tr className={headRowClass}>
                <th scope="col" className={thClass}>
                  {t('mailOutbox.subject')}
                </th>
                <th scope="col" className={thClass}>
                  {t('mailOutbox.to')}
                </th>
                <th scope="col" className={thClass}>
                  {t('mailOutbox.state')}
                </th>
                <th scope="col" className={thClass}>
                  {t('mailOutbox.createdAt')}
                </th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((m) => (
                <tr key={m.id} className={rowClass} data-testid="mail-row" data-template={m.template} data-to={m.to}>
                  <th scope="row" className={`${thClass} font-normal`}>
                    <details>
                      <summary className="cursor-pointer">{m.subject}</summary>
                      <pre className="mt-2 whitespace-pre-wrap break-all font-sans text-std-16N-170" data-testid="mail-body">
                        {m.body}
                      </pre>
                    </details>
                  </th>
                  <td className={`${tdClass} break-all`}>{m.to}</td>
                  <td className={tdClass}>
                    <Badge tone={TONE[m.state]}>{t(`mailOutbox.states.${m.state}`)}</Badge>
                    {m.attempts > 0 && (
                      <span className="block text-solid-gray-700">{t('mailOutbox.attempts', { count: m.attempts })}</span>
                    )}
                    {m.lastError && <span className="block break-all text-solid-gray-700">{m.lastError}</span>}
                  </td>
                  <td className={tdClass}>
                    <When iso={m.createdAt} />
                    {m.sentAt && (
                      <span className="block text-solid-gray-700">
                        {t('mailOutbox.sentAt')} <When iso={m.sentAt} />
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

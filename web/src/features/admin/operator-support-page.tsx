/**
 * For provider operators (事業者運用者, AC-07): ask a tenant for time-limited, read-only access with a
 * reason, and follow the requests. Nothing of a tenant is visible until its administrator approves.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { formatDateTime } from '../../i18n/format';
import { currentLanguage } from '../../i18n/i18n';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { TextareaField, TextField } from '../../ui/form';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';
import { fetchOperatorGrants, requestGrant, type SupportGrant } from './admin.api';

export function OperatorSupportPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('operatorSupport.title'));
  const [grants, setGrants] = useState<SupportGrant[] | null>(null);
  const [tenant, setTenant] = useState('');
  const [reason, setReason] = useState('');
  const [minutes, setMinutes] = useState('60');
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [sent, setSent] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setGrants(await fetchOperatorGrants());
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    try {
      await requestGrant({ tenant: tenant.trim(), reason: reason.trim(), durationMinutes: Number(minutes) });
      setSent((n) => (n ?? 0) + 1);
      setFailure(null);
      setReason('');
      await load();
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex flex-col gap-6">
      <PageHeading>{t('operatorSupport.title')}</PageHeading>
      <p className="text-std-16N-170">{t('operatorSupport.lead')}</p>
      {failure && <ErrorBanner key={failure.n} title={t('operatorSupport.errorTitle')} code={failure.code} />}
      {sent !== null && <SuccessBanner key={sent} title={t('operatorSupport.sent')} data-testid="operator-support-sent" />}
      <form className="flex max-w-2xl flex-col gap-4" onSubmit={(e) => void submit(e)} noValidate>
        <TextField
          label={t('operatorSupport.tenant')}
          value={tenant}
          onChange={(e) => setTenant(e.target.value)}
          required
          autoComplete="off"
        />
        <TextareaField
          label={t('operatorSupport.reason')}
          hint={t('operatorSupport.reasonHint')}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          required
          rows={4}
        />
        <TextField
          label={t('operatorSupport.minutes')}
          hint={t('operatorSupport.minutesHint')}
          type="number"
          min={15}
          max={240}
          value={minutes}
          onChange={(e) => setMinutes(e.target.value)}
          required
        />
        <div>
          <Button type="submit" variant="solid-fill" size="lg" busy={busy}>
            {t('operatorSupport.submit')}
          </Button>
        </div>
      </form>
      {grants && grants.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-std-16N-170" data-testid="operator-grants">
            <caption className="text-left text-std-20B-150">{t('operatorSupport.caption')}</caption>
            <thead>
              <tr className={headRowClass}>
                <th scope="col" className={thClass}>
                  {t('operatorSupport.tenant')}
                </th>
                <th scope="col" className={thClass}>
                  {t('support.reason')}
                </th>
                <th scope="col" className={thClass}>
                  {t('support.state')}
                </th>
                <th scope="col" className={thClass}>
                  {t('support.expiresAt')}
                </th>
              </tr>
            </thead>
            <tbody>
              {grants.map((g) => (
                <tr key={g.id} className={rowClass}>
                  <th scope="row" className={`${thClass} font-normal`}>
                    {g.tenant.slug}
                  </th>
                  <td className={`${tdClass} whitespace-pre-line`}>{g.reason}</td>
                  <td className={tdClass}>
                    <Badge tone={g.state === 'approved' ? 'success' : g.state === 'requested' ? 'warning' : 'neutral'}>
                      {t(`support.states.${g.state}`)}
                    </Badge>
                  </td>
                  <td className={tdClass}>
                    {g.expiresAt ? (
                      <time dateTime={g.expiresAt}>{formatDateTime(new Date(g.expiresAt), currentLanguage())}</time>
                    ) : (
                      '—'
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

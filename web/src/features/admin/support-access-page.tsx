/**
 * Support access (lockbox, AC-07): the service operator's requests to see this tenant's data, with
 * reason and duration; tenant admins approve, deny or revoke them (step-up), auditors read the list.
 * Nothing of the tenant is visible to the operator unless a request is approved and not yet expired.
 */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { formatDateTime } from '../../i18n/format';
import { currentLanguage } from '../../i18n/i18n';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { ConfirmDialog, headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';
import { useMe } from '../identity/session';
import { StepUpCancelled, useStepUp } from '../identity/step-up';
import { decideGrant, fetchGrants, type GrantState, type SupportGrant } from './admin.api';

type GrantDecision = 'approve' | 'deny' | 'revoke';
const stateTone: Record<GrantState, 'warning' | 'success' | 'neutral' | 'error'> = {
  requested: 'warning',
  approved: 'success',
  denied: 'neutral',
  revoked: 'neutral',
  expired: 'neutral',
};

function When({ iso }: { iso: string | null }) {
  if (!iso) return <>—</>;
  return <time dateTime={iso}>{formatDateTime(new Date(iso), currentLanguage())}</time>;
}

export function SupportAccessPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('support.title'));
  const canChange = useMe().user.role === 'tenant_admin';
  const { run, dialog } = useStepUp();
  const [grants, setGrants] = useState<SupportGrant[] | null>(null);
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [done, setDone] = useState<{ decision: GrantDecision; n: number } | null>(null);
  const [confirming, setConfirming] = useState<{ grant: SupportGrant; decision: GrantDecision } | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setGrants(await fetchGrants());
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function decide() {
    if (!confirming || busy) return;
    const { grant, decision } = confirming;
    setBusy(true);
    try {
      await run(() => decideGrant(grant.id, decision));
      setDone((d) => ({ decision, n: (d?.n ?? 0) + 1 }));
      setFailure(null);
      await load();
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    } finally {
      setBusy(false);
      setConfirming(null);
    }
  }

  const actionsFor = (g: SupportGrant): GrantDecision[] =>
    g.state === 'requested' ? ['approve', 'deny'] : g.state === 'approved' ? ['revoke'] : [];

  return (
    <div className="flex flex-col gap-6">
      <PageHeading>{t('support.title')}</PageHeading>
      <p className="text-std-16N-170">{t('support.lead')}</p>
      {!canChange && (
        <p className="text-std-16N-170" data-testid="support-read-only">
          {t('support.readOnly')}
        </p>
      )}
      {failure && <ErrorBanner key={failure.n} title={t('support.errorTitle')} code={failure.code} />}
      {done && <SuccessBanner key={done.n} title={t(`support.done.${done.decision}`)} data-testid="support-success" />}
      {grants === null && !failure && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {grants && grants.length === 0 && <p className="text-std-16N-170">{t('support.none')}</p>}
      {grants && grants.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-std-16N-170" data-testid="grants-table">
            <caption className="sr-only">{t('support.caption')}</caption>
            <thead>
              <tr className={headRowClass}>
                <th scope="col" className={thClass}>
                  {t('support.requestedAt')}
                </th>
                <th scope="col" className={thClass}>
                  {t('support.reason')}
                </th>
                <th scope="col" className={thClass}>
                  {t('support.duration')}
                </th>
                <th scope="col" className={thClass}>
                  {t('support.state')}
                </th>
                <th scope="col" className={thClass}>
                  {t('support.expiresAt')}
                </th>
                {canChange && (
                  <th scope="col" className={thClass}>
                    {t('account.actions')}
                  </th>
                )}
              </tr>
            </thead>
            <tbody>
              {grants.map((g) => (
                <tr key={g.id} className={rowClass} data-testid="grant-row" data-state={g.state}>
                  <th scope="row" className={`${thClass} font-normal`}>
                    <When iso={g.requestedAt} />
                  </th>
                  <td className={`${tdClass} whitespace-pre-line`}>{g.reason}</td>
                  <td className={tdClass}>{t('support.minutes', { count: g.durationMinutes })}</td>
                  <td className={tdClass}>
                    <Badge tone={stateTone[g.state]}>{t(`support.states.${g.state}`)}</Badge>
                  </td>
                  <td className={tdClass}>
                    <When iso={g.expiresAt} />
                  </td>
                  {canChange && (
                    <td className={tdClass}>
                      <div className="flex flex-wrap gap-2">
                        {actionsFor(g).map((decision) => (
                          <Button
                            key={decision}
                            variant={decision === 'approve' ? 'solid-fill' : 'outline'}
                            size="md"
                            onClick={() => setConfirming({ grant: g, decision })}
                          >
                            {t(`support.action.${decision}`)}
                          </Button>
                        ))}
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={confirming !== null}
        title={confirming ? t(`support.confirmTitle.${confirming.decision}`) : ''}
        body={
          confirming && (
            <>
              <p>{t(`support.confirmBody.${confirming.decision}`, { count: confirming.grant.durationMinutes })}</p>
              <p className="whitespace-pre-line">
                {t('support.reason')}：{confirming.grant.reason}
              </p>
            </>
          )
        }
        confirmLabel={confirming ? t(`support.action.${confirming.decision}`) : ''}
        busy={busy}
        onConfirm={() => void decide()}
        onCancel={() => setConfirming(null)}
      />
      {dialog}
    </div>
  );
}

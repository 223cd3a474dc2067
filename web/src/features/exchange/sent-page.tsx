/**
 * 送信済み (`/exchange/sent`, TLS-04, HR-05): the own shares to outside recipients, newest first:
 * state (承認待ち / 送信済み / 却下 / 期限切れ / 取消 / 削除済み), 利用目的, files, each recipient's
 * verification and downloads, and the approvers' decisions with their comments. A share that is
 * waiting or active can be revoked at once (the link then answers as if it never existed).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { routeLink } from '../../app/router';
import { useDocumentTitle } from '../../app/use-document-title';
import { Button } from '../../ui/button';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { linkClass } from '../../ui/link';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';
import { StepUpCancelled, useStepUp } from '../identity/step-up';
import { fetchShares, revokeShare, type ShareDto } from './exchange.api';
import { ShareCard } from './share-card';

type Outcome = { kind: 'revoked'; purpose: string; n: number } | { kind: 'error'; code: string; n: number };

export function SentPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('exchange.sent.title'));
  const { run, dialog } = useStepUp();
  const [shares, setShares] = useState<ShareDto[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [revoking, setRevoking] = useState<ShareDto | null>(null);
  const [busy, setBusy] = useState(false);
  const counter = useRef(0);

  const load = useCallback(async () => {
    try {
      setShares(await fetchShares());
      setLoadError(null);
    } catch (err) {
      setLoadError(errorCode(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function revoke() {
    if (!revoking || busy) return;
    const share = revoking;
    setBusy(true);
    try {
      await run(() => revokeShare(share.id));
      setOutcome({ kind: 'revoked', purpose: share.purpose, n: ++counter.current });
      await load();
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) setOutcome({ kind: 'error', code: errorCode(err), n: ++counter.current });
    } finally {
      setBusy(false);
      setRevoking(null);
    }
  }

  return (
    <div className="flex flex-col gap-8">
      <div className="flex flex-col gap-4">
        <PageHeading>{t('exchange.sent.title')}</PageHeading>
        <p className="text-std-16N-170">{t('exchange.sent.lead')}</p>
        <p className="text-std-16N-170">
          <a className={linkClass} {...routeLink('/files')}>
            {t('exchange.sent.howToSend')}
          </a>
        </p>
      </div>
      {outcome?.kind === 'revoked' && (
        <SuccessBanner
          key={outcome.n}
          title={t('exchange.sent.revoked', { purpose: outcome.purpose })}
          data-testid="share-revoked"
        />
      )}
      {outcome?.kind === 'error' && (
        <ErrorBanner key={outcome.n} title={t('exchange.sent.revokeErrorTitle')} code={outcome.code} />
      )}
      {loadError && <ErrorBanner title={t('app.loadErrorTitle')} code={loadError} focus={false} />}
      {shares === null && !loadError && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {shares && shares.length === 0 && (
        <p className="text-std-16N-170" data-testid="sent-empty">
          {t('exchange.sent.none')}
        </p>
      )}
      {shares && shares.length > 0 && (
        <ul className="flex flex-col gap-6" aria-label={t('exchange.sent.listLabel')}>
          {shares.map((s) => (
            <li key={s.id}>
              <ShareCard
                share={s}
                actions={
                  s.state === 'pending' || s.state === 'active' ? (
                    <Button variant="outline" size="md" onClick={() => setRevoking(s)} data-testid="revoke-share">
                      {s.state === 'pending' ? t('exchange.sent.withdraw') : t('exchange.sent.revoke')}
                      <span className="sr-only">（{s.purpose}）</span>
                    </Button>
                  ) : undefined
                }
              />
            </li>
          ))}
        </ul>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title={revoking ? t('exchange.sent.revokeTitle', { purpose: revoking.purpose }) : ''}
        body={<p>{t('exchange.sent.revokeBody')}</p>}
        confirmLabel={revoking?.state === 'pending' ? t('exchange.sent.withdraw') : t('exchange.sent.revoke')}
        busy={busy}
        onConfirm={() => void revoke()}
        onCancel={() => setRevoking(null)}
      />
      {dialog}
    </div>
  );
}

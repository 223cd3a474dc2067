/** All API tokens of the tenant for tenant admins (AC-15): list and revoke (step-up). */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';
import { TokensTable } from '../identity/account-security';
import { fetchUsers, type AdminUser } from '../identity/admin-users.api';
import { fetchAllTokens, revokeAnyToken, type ApiToken } from '../identity/identity.api';
import { StepUpCancelled, useStepUp } from '../identity/step-up';

export function AdminTokensPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('tokens.adminTitle'));
  const { run, dialog } = useStepUp();
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [users, setUsers] = useState<Map<string, AdminUser>>(new Map());
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [revoked, setRevoked] = useState(0);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const [all, people] = await Promise.all([fetchAllTokens(), fetchUsers()]);
      setTokens(all);
      setUsers(new Map(people.map((u) => [u.id, u])));
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function revoke() {
    if (!revoking) return;
    const id = revoking.id;
    setBusy(id);
    setRevoking(null);
    try {
      await run(() => revokeAnyToken(id));
      setRevoked((n) => n + 1);
      setFailure(null);
      await load();
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    } finally {
      setBusy(null);
    }
  }

  const owner = (token: ApiToken) => {
    const u = users.get(token.userId);
    return u ? `${u.displayName}（${u.loginId}）` : token.userId;
  };

  return (
    <div className="flex flex-col gap-6">
      <PageHeading>{t('tokens.adminTitle')}</PageHeading>
      <p className="text-std-16N-170">{t('tokens.adminLead')}</p>
      {failure && <ErrorBanner key={failure.n} title={t('tokens.errorTitle')} code={failure.code} />}
      {revoked > 0 && <SuccessBanner key={revoked} title={t('tokens.revoked')} data-testid="admin-token-revoked" />}
      {tokens === null && !failure && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {tokens && tokens.length === 0 && <p className="text-std-16N-170">{t('tokens.none')}</p>}
      {tokens && tokens.length > 0 && <TokensTable tokens={tokens} owner={owner} busy={busy} onRevoke={setRevoking} />}
      <ConfirmDialog
        open={revoking !== null}
        title={t('tokens.revokeTitle', { name: revoking?.name ?? '' })}
        body={<p>{t('tokens.revokeBody')}</p>}
        confirmLabel={t('tokens.revoke')}
        onConfirm={() => void revoke()}
        onCancel={() => setRevoking(null)}
      />
      {dialog}
    </div>
  );
}

/**
 * Account page sections for passkeys (AC-09: list, add, remove with step-up) and personal API
 * tokens (AC-15: create with step-up, shown once with copy; list; revoke).
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { formatDateTime } from '../../i18n/format';
import { currentLanguage } from '../../i18n/i18n';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { ConfirmDialog, headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { Checkbox, Fieldset, TextField } from '../../ui/form';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { NotificationBanner } from '../../ui/notification-banner';
import { SectionHeading } from '../../ui/page-heading';
import {
  createToken,
  fetchMyTokens,
  fetchPasskeys,
  removePasskey,
  revokeMyToken,
  TOKEN_SCOPES,
  type ApiToken,
  type Passkey,
  type TokenScope,
} from './identity.api';
import { PasskeySetup } from './mfa-enrollment';
import { useSession } from './session';
import { StepUpCancelled, useStepUp } from './step-up';
import { RecoveryCodes } from './totp-enrollment';

type Failure = { code: string; attempt: number } | null;
const bump = (code: string) => (f: Failure) => ({ code, attempt: (f?.attempt ?? 0) + 1 });

function When({ iso }: { iso: string | null }) {
  const { t } = useTranslation();
  if (!iso) return <>{t('account.never')}</>;
  return <time dateTime={iso}>{formatDateTime(new Date(iso), currentLanguage())}</time>;
}

export function PasskeysSection() {
  const { t } = useTranslation();
  const { refresh } = useSession();
  const { run, dialog } = useStepUp();
  const [passkeys, setPasskeys] = useState<Passkey[] | null>(null);
  const [failure, setFailure] = useState<Failure>(null);
  const [adding, setAdding] = useState(false);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [done, setDone] = useState<{ key: string; n: number } | null>(null);
  const [removing, setRemoving] = useState<Passkey | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setPasskeys(await fetchPasskeys());
    } catch (err) {
      setFailure(bump(errorCode(err)));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const success = (key: string) => setDone((d) => ({ key, n: (d?.n ?? 0) + 1 }));

  async function remove() {
    if (!removing) return;
    setBusy(true);
    try {
      await run(() => removePasskey(removing.id));
      success('account.passkeyRemoved');
      setFailure(null);
      void refresh();
      await load();
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) setFailure(bump(errorCode(err)));
    } finally {
      setBusy(false);
      setRemoving(null);
    }
  }

  return (
    <section aria-labelledby="account-passkeys" className="flex flex-col gap-4" data-testid="account-passkeys">
      <SectionHeading id="account-passkeys">{t('account.passkeysTitle')}</SectionHeading>
      <p className="text-std-16N-170">{t('account.passkeysLead')}</p>
      {failure && <ErrorBanner key={failure.attempt} title={t('account.passkeyErrorTitle')} code={failure.code} />}
      {done && <SuccessBanner key={done.n} title={t(done.key as 'account.passkeyAdded')} data-testid="passkey-success" />}
      {passkeys === null && !failure && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {passkeys && passkeys.length === 0 && <p className="text-std-16N-170">{t('account.passkeysNone')}</p>}
      {passkeys && passkeys.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-std-16N-170" data-testid="passkeys-table">
            <caption className="sr-only">{t('account.passkeysTitle')}</caption>
            <thead>
              <tr className={headRowClass}>
                <th scope="col" className={thClass}>
                  {t('account.passkeyName')}
                </th>
                <th scope="col" className={thClass}>
                  {t('account.createdAt')}
                </th>
                <th scope="col" className={thClass}>
                  {t('account.lastUsedAt')}
                </th>
                <th scope="col" className={thClass}>
                  {t('account.actions')}
                </th>
              </tr>
            </thead>
            <tbody>
              {passkeys.map((p) => (
                <tr key={p.id} className={rowClass} data-testid="passkey-row">
                  <th scope="row" className={`${thClass} font-normal`}>
                    {p.name}
                  </th>
                  <td className={tdClass}>
                    <When iso={p.createdAt} />
                  </td>
                  <td className={tdClass}>
                    <When iso={p.lastUsedAt} />
                  </td>
                  <td className={tdClass}>
                    <Button variant="outline" size="md" onClick={() => setRemoving(p)}>
                      {t('account.remove')}
                      <span className="sr-only">（{p.name}）</span>
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {codes ? (
        <RecoveryCodes codes={codes} headingLevel="h2" onContinue={() => setCodes(null)} />
      ) : adding ? (
        <PasskeySetup
          submitLabel={t('account.passkeyAdd')}
          guard={run}
          onRegistered={(_next, recoveryCodes) => {
            setAdding(false);
            success('account.passkeyAdded');
            if (recoveryCodes.length > 0) setCodes(recoveryCodes);
            void refresh();
            void load();
          }}
        />
      ) : (
        <div>
          <Button variant="outline" size="md" onClick={() => setAdding(true)}>
            {t('account.passkeyAdd')}
          </Button>
        </div>
      )}
      <ConfirmDialog
        open={removing !== null}
        title={t('account.passkeyRemoveTitle', { name: removing?.name ?? '' })}
        body={<p>{t('account.passkeyRemoveBody')}</p>}
        confirmLabel={t('account.remove')}
        busy={busy}
        onConfirm={() => void remove()}
        onCancel={() => setRemoving(null)}
      />
      {dialog}
    </section>
  );
}

/** i18next reads `:` as a namespace separator, so the keys use `_`. */
function scopeKey(scope: TokenScope) {
  return scope.replace(':', '_') as 'me_read';
}

function tokenState(token: ApiToken): 'active' | 'revoked' | 'expired' {
  if (token.revoked) return 'revoked';
  return Date.parse(token.expiresAt) <= Date.now() ? 'expired' : 'active';
}

/** A token table, shared with the admin page (which adds the owner column). */
export function TokensTable({
  tokens,
  onRevoke,
  owner,
  busy,
}: {
  tokens: ApiToken[];
  onRevoke: (token: ApiToken) => void;
  owner?: (token: ApiToken) => string;
  busy: string | null;
}) {
  const { t } = useTranslation();
  const tone = { active: 'success', revoked: 'neutral', expired: 'warning' } as const;
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-std-16N-170" data-testid="tokens-table">
        <caption className="sr-only">{t('tokens.caption')}</caption>
        <thead>
          <tr className={headRowClass}>
            <th scope="col" className={thClass}>
              {t('tokens.name')}
            </th>
            {owner && (
              <th scope="col" className={thClass}>
                {t('tokens.owner')}
              </th>
            )}
            <th scope="col" className={thClass}>
              {t('tokens.scopes')}
            </th>
            <th scope="col" className={thClass}>
              {t('tokens.state')}
            </th>
            <th scope="col" className={thClass}>
              {t('tokens.expiresAt')}
            </th>
            <th scope="col" className={thClass}>
              {t('tokens.lastUsed')}
            </th>
            <th scope="col" className={thClass}>
              {t('account.actions')}
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((token) => {
            const state = tokenState(token);
            return (
              <tr key={token.id} className={rowClass} data-testid="token-row" data-name={token.name} data-state={state}>
                <th scope="row" className={`${thClass} font-normal`}>
                  {token.name}
                </th>
                {owner && <td className={tdClass}>{owner(token)}</td>}
                <td className={tdClass}>
                  <ul>
                    {token.scopes.map((s) => (
                      <li key={s}>{t(`tokens.scope.${scopeKey(s)}`)}</li>
                    ))}
                  </ul>
                </td>
                <td className={tdClass}>
                  <Badge tone={tone[state]} data-testid="token-state">
                    {t(`tokens.states.${state}`)}
                  </Badge>
                </td>
                <td className={tdClass}>
                  <When iso={token.expiresAt} />
                </td>
                <td className={tdClass}>
                  <When iso={token.lastUsedAt} />
                  {token.lastUsedIp && <span className="block text-solid-gray-700">{token.lastUsedIp}</span>}
                </td>
                <td className={tdClass}>
                  {state === 'active' && (
                    <Button variant="outline" size="md" busy={busy === token.id} onClick={() => onRevoke(token)}>
                      {t('tokens.revoke')}
                      <span className="sr-only">（{token.name}）</span>
                    </Button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function ApiTokensSection() {
  const { t } = useTranslation();
  const { run, dialog } = useStepUp();
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [failure, setFailure] = useState<Failure>(null);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<TokenScope[]>(['me:read']);
  const [days, setDays] = useState('');
  const [errors, setErrors] = useState<{ name?: string; scopes?: string; days?: string }>({});
  const [created, setCreated] = useState<{ token: string; name: string } | null>(null);
  const [copied, setCopied] = useState<'ok' | 'failed' | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [revoked, setRevoked] = useState(0);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setTokens(await fetchMyTokens());
    } catch (err) {
      setFailure(bump(errorCode(err)));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const next: typeof errors = {};
    if (!name.trim()) next.name = t('form.fieldRequired', { field: t('tokens.name') });
    if (scopes.length === 0) next.scopes = t('tokens.scopesRequired');
    const n = days.trim() === '' ? undefined : Number(days);
    if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 365)) next.days = t('tokens.daysRange');
    setErrors(next);
    if (Object.keys(next).length > 0) return;
    setBusy('create');
    setCreated(null);
    setCopied(null);
    try {
      const result = await run(() =>
        createToken({ name: name.trim(), scopes, ...(n !== undefined ? { expiresInDays: n } : {}) }),
      );
      setCreated({ token: result.token, name: result.info.name });
      setFailure(null);
      setName('');
      setDays('');
      await load();
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) setFailure(bump(errorCode(err)));
    } finally {
      setBusy(null);
    }
  }

  async function revoke() {
    if (!revoking) return;
    const id = revoking.id;
    setBusy(id);
    setRevoking(null);
    try {
      await revokeMyToken(id);
      setRevoked((r) => r + 1);
      setFailure(null);
      await load();
    } catch (err) {
      setFailure(bump(errorCode(err)));
    } finally {
      setBusy(null);
    }
  }

  async function copy(token: string) {
    try {
      await navigator.clipboard.writeText(token);
      setCopied('ok');
    } catch {
      setCopied('failed');
    }
  }

  return (
    <section aria-labelledby="account-tokens" className="flex flex-col gap-4" data-testid="account-tokens">
      <SectionHeading id="account-tokens">{t('tokens.title')}</SectionHeading>
      <p className="text-std-16N-170">{t('tokens.lead')}</p>
      {failure && (
        <ErrorBanner key={failure.attempt} title={t('tokens.errorTitle')} code={failure.code} data-testid="tokens-error">
          {failure.code === 'tenant.feature_disabled' && <p>{t('tokens.disabledHint')}</p>}
        </ErrorBanner>
      )}
      {revoked > 0 && <SuccessBanner key={revoked} title={t('tokens.revoked')} />}
      {created && (
        <div className="flex flex-col gap-4" data-testid="new-token">
          <NotificationBanner tone="warning" iconLabel={t('icon.warning')} title={t('tokens.createdTitle')} headingLevel="h3">
            <p>{t('tokens.createdWarning')}</p>
          </NotificationBanner>
          <TextField
            label={t('tokens.value', { name: created.name })}
            value={created.token}
            readOnly
            onFocus={(e) => e.target.select()}
            className="w-full font-mono"
            data-testid="new-token-value"
          />
          <div className="flex flex-wrap items-center gap-4">
            <Button variant="outline" size="md" onClick={() => void copy(created.token)}>
              {t('tokens.copy')}
            </Button>
            <Button variant="outline" size="md" onClick={() => setCreated(null)}>
              {t('tokens.hide')}
            </Button>
          </div>
          <p role="status" className="text-std-16N-170">
            {copied === 'ok' ? t('form.copied') : copied === 'failed' ? t('form.copyFailed') : ''}
          </p>
        </div>
      )}
      {tokens === null && !failure && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {tokens && tokens.length === 0 && <p className="text-std-16N-170">{t('tokens.none')}</p>}
      {tokens && tokens.length > 0 && <TokensTable tokens={tokens} busy={busy} onRevoke={(token) => setRevoking(token)} />}
      <form
        noValidate
        onSubmit={(e) => void submit(e)}
        className="flex flex-col gap-6 rounded-8 border border-solid-gray-420 p-4 sm:p-6"
      >
        <h3 className="text-std-20B-150 text-solid-gray-900">{t('tokens.createTitle')}</h3>
        <TextField
          label={t('tokens.name')}
          hint={t('tokens.nameHint')}
          required
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={errors.name}
          maxLength={100}
          autoComplete="off"
          className="max-w-96"
        />
        <Fieldset legend={t('tokens.scopes')} size="group">
          <div className="flex flex-col">
            {TOKEN_SCOPES.map((s) => (
              <Checkbox
                key={s}
                checked={scopes.includes(s)}
                onChange={(e) => setScopes((cur) => (e.target.checked ? [...cur, s] : cur.filter((x) => x !== s)))}
              >
                {t(`tokens.scope.${scopeKey(s)}`)}
              </Checkbox>
            ))}
          </div>
          {errors.scopes && (
            <p className="text-std-16N-170 text-red-900" data-testid="scopes-error">
              ＊{errors.scopes}
            </p>
          )}
        </Fieldset>
        <TextField
          label={t('tokens.days')}
          hint={t('tokens.daysHint')}
          inputMode="numeric"
          value={days}
          onChange={(e) => setDays(e.target.value)}
          error={errors.days}
          className="w-32"
        />
        <div>
          <Button type="submit" variant="solid-fill" size="md" busy={busy === 'create'}>
            {t('tokens.create')}
          </Button>
        </div>
      </form>
      <ConfirmDialog
        open={revoking !== null}
        title={t('tokens.revokeTitle', { name: revoking?.name ?? '' })}
        body={<p>{t('tokens.revokeBody')}</p>}
        confirmLabel={t('tokens.revoke')}
        onConfirm={() => void revoke()}
        onCancel={() => setRevoking(null)}
      />
      {dialog}
    </section>
  );
}

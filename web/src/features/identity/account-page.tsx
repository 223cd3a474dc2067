/**
 * The user's own account: password change (AC-16), second factor status and recovery codes left
 * (AC-09), passkeys, personal API tokens (AC-15), the sessions signed in on other devices with revoke, and sign-out everywhere (AC-13).
 */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { navigate } from '../../app/router';
import { useDocumentTitle } from '../../app/use-document-title';
import { formatDateTime } from '../../i18n/format';
import { currentLanguage } from '../../i18n/i18n';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { Dialog } from '../../ui/dialog';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { NotificationBanner } from '../../ui/notification-banner';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { fetchSessions, revokeSession, type SessionInfo } from './identity.api';
import { PasswordChangeForm } from './password-change-form';
import { useMe, useSession } from './session';
import { ApiTokensSection, PasskeysSection } from './account-security';
import { MfaEnrollmentFlow } from './mfa-enrollment';
import { useStepUp } from './step-up';

const LOW_RECOVERY_CODES = 3;

const dtClass = 'font-bold text-solid-gray-900';
const dlClass = 'grid grid-cols-1 gap-x-6 gap-y-1 text-std-16N-170 sm:grid-cols-[max-content_1fr] sm:gap-y-3';

export function AccountPage() {
  const { t } = useTranslation();
  const me = useMe();
  useDocumentTitle(t('account.title'));

  return (
    <div className="flex flex-col gap-12">
      <PageHeading>{t('account.title')}</PageHeading>

      <section aria-labelledby="account-profile" className="flex flex-col gap-4">
        <SectionHeading id="account-profile">{t('account.profileTitle')}</SectionHeading>
        <dl className={dlClass}>
          <dt className={dtClass}>{t('account.name')}</dt>
          <dd>{me.user.displayName}</dd>
          <dt className={dtClass}>{t('account.loginId')}</dt>
          <dd>{me.user.loginId}</dd>
          <dt className={dtClass}>{t('account.tenant')}</dt>
          <dd>
            {me.tenant.displayName}（{me.tenant.slug}）
          </dd>
          <dt className={dtClass}>{t('account.role')}</dt>
          <dd>{t(`roles.${me.user.role}`)}</dd>
        </dl>
      </section>

      <PasswordSection />
      <MfaSection />
      <PasskeysSection />
      <ApiTokensSection />
      <SessionsSection />
    </div>
  );
}

function PasswordSection() {
  const { t } = useTranslation();
  const me = useMe();
  const { refresh } = useSession();
  const [done, setDone] = useState(0);
  return (
    <section aria-labelledby="account-password" className="flex flex-col gap-6">
      <SectionHeading id="account-password">{t('account.passwordTitle')}</SectionHeading>
      {done > 0 && <SuccessBanner key={done} title={t('auth.passwordChange.done')} data-testid="password-changed" />}
      <PasswordChangeForm
        loginId={me.user.loginId}
        userInputs={[me.tenant.slug, me.tenant.displayName, me.user.loginId, me.user.displayName, me.user.email ?? '']}
        onChanged={() => {
          setDone((n) => n + 1);
          void refresh();
        }}
      />
    </section>
  );
}

function MfaSection() {
  const { t } = useTranslation();
  const me = useMe();
  const { refresh } = useSession();
  const { run, dialog } = useStepUp();
  const [enrolling, setEnrolling] = useState(false);
  const [enrolled, setEnrolled] = useState(false);
  const passkeys = me.mfa.passkeys ?? 0;
  const on = me.mfa.totp || passkeys > 0;
  const status = me.mfa.totp
    ? passkeys > 0
      ? t('account.mfaOnBoth')
      : t('account.mfaOn')
    : passkeys > 0
      ? t('account.mfaOnPasskey')
      : t('account.mfaOff');

  return (
    <section aria-labelledby="account-mfa" className="flex flex-col gap-4" data-testid="account-mfa">
      <SectionHeading id="account-mfa">{t('account.mfaTitle')}</SectionHeading>
      {enrolled && <SuccessBanner title={t('account.mfaDone')} />}
      <dl className={dlClass}>
        <dt className={dtClass}>{t('account.mfaStatus')}</dt>
        <dd data-testid="mfa-status" data-enrolled={on}>
          {status}
        </dd>
        {on && (
          <>
            <dt className={dtClass}>{t('account.recoveryLeft')}</dt>
            <dd data-testid="recovery-codes-left">{t('account.recoveryLeftValue', { count: me.mfa.recoveryCodesLeft })}</dd>
          </>
        )}
      </dl>
      {on && me.mfa.recoveryCodesLeft <= LOW_RECOVERY_CODES && (
        <NotificationBanner tone="warning" iconLabel={t('icon.warning')} title={t('account.recoveryLow')} headingLevel="h3" />
      )}
      {!on && !enrolling && (
        <div>
          <Button variant="outline" size="md" onClick={() => setEnrolling(true)}>
            {t('account.mfaSetup')}
          </Button>
        </div>
      )}
      {!on && enrolling && (
        <MfaEnrollmentFlow
          headingLevel="h2"
          guard={run}
          onDone={() => {
            setEnrolling(false);
            setEnrolled(true);
            void refresh();
          }}
        />
      )}
      {dialog}
    </section>
  );
}

type SessionsState = { phase: 'loading' } | { phase: 'error'; code: string } | { phase: 'ready'; sessions: SessionInfo[] };

/** A short browser description from the user agent ("Chrome 141 / Linux"), or null. */
function describeAgent(ua: string | null): string | null {
  if (!ua) return null;
  const browser =
    /Edg\/(\d+)/.exec(ua)?.[0].replace('Edg/', 'Edge ') ??
    /Firefox\/(\d+)/.exec(ua)?.[0].replace('/', ' ') ??
    /Chrome\/(\d+)/.exec(ua)?.[0].replace('/', ' ') ??
    /Version\/(\d+).*Safari/.exec(ua)?.[1]?.replace(/^/, 'Safari ') ??
    null;
  const os = /Windows|Mac OS X|Android|iPhone|iPad|Linux/.exec(ua)?.[0]?.replace('Mac OS X', 'macOS') ?? null;
  return [browser, os].filter(Boolean).join(' / ') || ua.slice(0, 60);
}

function SessionsSection() {
  const { t } = useTranslation();
  const { signOut } = useSession();
  const language = currentLanguage();
  const [state, setState] = useState<SessionsState>({ phase: 'loading' });
  const [failure, setFailure] = useState<{ code: string; attempt: number } | null>(null);
  const [revoked, setRevoked] = useState(0);
  const [confirmAll, setConfirmAll] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setState({ phase: 'ready', sessions: await fetchSessions() });
    } catch (err) {
      setState({ phase: 'error', code: errorCode(err) });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function revoke(id: string) {
    setBusy(id);
    try {
      await revokeSession(id);
      setRevoked((n) => n + 1);
      setFailure(null);
      await load();
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), attempt: (f?.attempt ?? 0) + 1 }));
    } finally {
      setBusy(null);
    }
  }

  async function logoutEverywhere() {
    setBusy('all');
    try {
      await signOut(true);
      navigate('/login', { replace: true });
    } catch (err) {
      setConfirmAll(false);
      setFailure((f) => ({ code: errorCode(err), attempt: (f?.attempt ?? 0) + 1 }));
      setBusy(null);
    }
  }

  const zoneName = (zone: string) => (zone === 'lgwan' || zone === 'internet' ? t(`status.zone.${zone}`) : zone);
  const th = 'px-4 py-3 text-start align-top';
  const td = 'px-4 py-3 align-top';

  return (
    <section aria-labelledby="account-sessions" className="flex flex-col gap-4">
      <SectionHeading id="account-sessions">{t('account.sessionsTitle')}</SectionHeading>
      <p className="text-std-16N-170">{t('account.sessionsLead')}</p>
      {failure && <ErrorBanner key={failure.attempt} title={t('account.revokeErrorTitle')} code={failure.code} />}
      {revoked > 0 && <SuccessBanner key={revoked} title={t('account.revoked')} />}
      {state.phase === 'loading' && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {state.phase === 'error' && <ErrorBanner title={t('app.loadErrorTitle')} code={state.code} focus={false} />}
      {state.phase === 'ready' && (
        <div className="overflow-x-auto">
          <table className="w-full text-std-16N-170" data-testid="sessions-table">
            <caption className="sr-only">{t('account.sessionsCaption')}</caption>
            <thead>
              <tr className="border-b border-black bg-solid-gray-100">
                <th scope="col" className={th}>
                  {t('account.device')}
                </th>
                <th scope="col" className={th}>
                  {t('account.zone')}
                </th>
                <th scope="col" className={th}>
                  {t('account.ip')}
                </th>
                <th scope="col" className={th}>
                  {t('account.startedAt')}
                </th>
                <th scope="col" className={th}>
                  {t('account.lastSeenAt')}
                </th>
                <th scope="col" className={th}>
                  {t('account.actions')}
                </th>
              </tr>
            </thead>
            <tbody>
              {state.sessions.map((s) => (
                <tr key={s.id} className="border-b border-solid-gray-420" data-testid="session-row" data-current={s.current}>
                  <th scope="row" className={`${th} font-normal`}>
                    <span className="flex flex-wrap items-center gap-2">
                      {describeAgent(s.userAgent) ?? t('account.unknownDevice')}
                      {s.current && <Badge tone="info">{t('account.thisDevice')}</Badge>}
                    </span>
                  </th>
                  <td className={td}>{zoneName(s.zone)}</td>
                  <td className={td}>{s.ip ?? t('home.unknown')}</td>
                  <td className={td}>
                    <time dateTime={s.createdAt}>{formatDateTime(new Date(s.createdAt), language)}</time>
                  </td>
                  <td className={td}>
                    <time dateTime={s.lastSeenAt}>{formatDateTime(new Date(s.lastSeenAt), language)}</time>
                  </td>
                  <td className={td}>
                    {!s.current && (
                      <Button variant="outline" size="md" busy={busy === s.id} onClick={() => void revoke(s.id)}>
                        {t('account.revoke')}
                        <span className="sr-only">（{describeAgent(s.userAgent) ?? t('account.unknownDevice')}）</span>
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="flex flex-col gap-2">
        <p className="text-std-16N-170">{t('account.logoutAllHint')}</p>
        <div>
          <Button variant="outline" size="md" onClick={() => setConfirmAll(true)} data-testid="logout-all">
            {t('account.logoutAll')}
          </Button>
        </div>
      </div>
      <Dialog open={confirmAll} title={t('account.logoutAllConfirmTitle')} onCancel={() => setConfirmAll(false)}>
        <p>{t('account.logoutAllConfirmBody')}</p>
        <div className="flex flex-wrap gap-4">
          <Button variant="solid-fill" size="md" busy={busy === 'all'} onClick={() => void logoutEverywhere()}>
            {t('account.logoutAll')}
          </Button>
          <Button variant="outline" size="md" onClick={() => setConfirmAll(false)}>
            {t('form.cancel')}
          </Button>
        </div>
      </Dialog>
    </section>
  );
}

/**
 * First sign-in through a one-time setup link (AC-16): `/setup#token=…`. The token is read from the
 * fragment (never sent in a URL, so it stays out of logs and Referer headers) and removed from the
 * address bar at once. The page names the tenant and login ID, takes the first password with live
 * policy feedback, then continues with TOTP enrolment when the user must use MFA.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, errorCode } from '../../api/api-client';
import { navigate, routeLink } from '../../app/router';
import { useDocumentTitle } from '../../app/use-document-title';
import { Button } from '../../ui/button';
import { linkClass } from '../../ui/link';
import { ErrorBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';
import { completeSetup, inspectSetup, type NextStep, type SetupInfo } from './identity.api';
import { NewPasswordFields } from './new-password-fields';
import { passwordReasonKey } from './password-reasons';
import { rememberTenant } from './remembered-tenant';
import { useSession } from './session';
import { SignInSteps } from './sign-in-steps';

function tokenFromHash(): string | null {
  const match = /(?:^#|&)token=([A-Za-z0-9_-]{20,128})(?:&|$)/.exec(window.location.hash);
  return match?.[1] ?? null;
}

/** The token of the link that opened the page; also follows a later `#token=` change. */
function useSetupToken(): string | null {
  const [token, setToken] = useState(tokenFromHash);
  useEffect(() => {
    const strip = () => {
      const found = tokenFromHash();
      if (found) setToken(found);
      if (window.location.hash) window.history.replaceState(window.history.state, '', window.location.pathname);
    };
    strip();
    window.addEventListener('hashchange', strip);
    return () => window.removeEventListener('hashchange', strip);
  }, []);
  return token;
}

type LoadState = { phase: 'loading' } | { phase: 'invalid'; code: string } | { phase: 'ready'; info: SetupInfo };

export function SetupPage() {
  const { t } = useTranslation();
  const token = useSetupToken();
  const session = useSession();
  const [load, setLoad] = useState<LoadState>({ phase: 'loading' });
  const [step, setStep] = useState<NextStep | 'password'>('password');
  useDocumentTitle(t('auth.setup.title'));

  // A browser that is already signed in needs that session's CSRF token to send the setup form.
  const { ensureLoaded } = session;
  useEffect(ensureLoaded, [ensureLoaded]);

  useEffect(() => {
    if (!token) {
      setLoad({ phase: 'invalid', code: 'auth.setup_link_invalid' });
      return;
    }
    let current = true;
    setLoad({ phase: 'loading' });
    setStep('password');
    inspectSetup(token)
      .then((info) => current && setLoad({ phase: 'ready', info }))
      .catch((err: unknown) => current && setLoad({ phase: 'invalid', code: errorCode(err) }));
    return () => {
      current = false;
    };
  }, [token]);

  async function advance(next: NextStep) {
    if (next !== 'done') {
      setStep(next);
      return;
    }
    await session.refresh();
    navigate('/', { replace: true });
  }

  if (step !== 'password' && step !== 'done' && load.phase === 'ready') {
    const info = load.info;
    return (
      <SignInSteps
        next={step}
        onNext={(next) => void advance(next)}
        loginId={info.loginId}
        userInputs={[info.tenant.slug, info.tenant.displayName, info.loginId, info.displayName]}
      />
    );
  }

  return (
    <div className="flex max-w-2xl flex-col gap-6" data-testid="setup-page">
      <PageHeading>{t('auth.setup.title')}</PageHeading>
      {load.phase === 'loading' && <p className="text-std-16N-170">{t('auth.setup.loading')}</p>}
      {load.phase === 'invalid' && (
        <>
          <ErrorBanner title={t('auth.setup.errorTitle')} code={load.code} focus={false} data-testid="setup-error">
            {!token && <p>{t('auth.setup.noToken')}</p>}
          </ErrorBanner>
          <p className="text-std-16N-170">
            <a className={linkClass} {...routeLink('/login')}>
              {t('auth.setup.toLogin')}
            </a>
          </p>
        </>
      )}
      {load.phase === 'ready' && token && <SetupForm token={token} info={load.info} onNext={(next) => void advance(next)} />}
    </div>
  );
}

function SetupForm({ token, info, onNext }: { token: string; info: SetupInfo; onNext: (next: NextStep) => void }) {
  const { t } = useTranslation();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<{ password?: string; confirm?: string }>({});
  const [failure, setFailure] = useState<{ code: string; reasons: readonly string[]; attempt: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const passwordRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLInputElement>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const found = {
      password: password ? undefined : t('form.fieldRequired', { field: t('auth.setup.password') }),
      confirm: !confirm
        ? t('form.fieldRequired', { field: t('auth.setup.confirm') })
        : confirm !== password
          ? t('password.reasons.mismatch')
          : undefined,
    };
    setErrors(found);
    if (found.password) return passwordRef.current?.focus();
    if (found.confirm) return confirmRef.current?.focus();
    setBusy(true);
    try {
      const next = await completeSetup({ token, password, confirmPassword: confirm });
      rememberTenant(info.tenant.slug);
      onNext(next);
    } catch (err) {
      setFailure((f) => ({
        code: errorCode(err),
        reasons: err instanceof ApiError ? err.reasons : [],
        attempt: (f?.attempt ?? 0) + 1,
      }));
      setBusy(false);
    }
  }

  return (
    <>
      <p className="text-std-16N-170">{t('auth.setup.lead')}</p>
      <section aria-labelledby="setup-account" className="rounded-8 border border-solid-gray-420 p-4 sm:p-6">
        <h2 id="setup-account" className="mb-3 text-std-20B-150 text-solid-gray-900">
          {t('auth.setup.account')}
        </h2>
        <dl className="grid grid-cols-1 gap-x-6 gap-y-1 text-std-16N-170 sm:grid-cols-[max-content_1fr] sm:gap-y-2">
          <dt className="font-bold text-solid-gray-900">{t('auth.setup.tenant')}</dt>
          <dd data-testid="setup-tenant">
            {info.tenant.displayName}（{info.tenant.slug}）
          </dd>
          <dt className="font-bold text-solid-gray-900">{t('auth.setup.loginId')}</dt>
          <dd data-testid="setup-login-id">{info.loginId}</dd>
          <dt className="font-bold text-solid-gray-900">{t('auth.setup.name')}</dt>
          <dd>{info.displayName}</dd>
        </dl>
      </section>
      {info.mfaRequired && <p className="text-std-16N-170">{t('auth.setup.mfaNote')}</p>}
      {failure && (
        <ErrorBanner key={failure.attempt} title={t('auth.setup.errorTitle')} code={failure.code}>
          {failure.reasons.length > 0 && (
            <ul className="ml-6 list-disc">
              {failure.reasons.map((r) => (
                <li key={r}>{t(passwordReasonKey(r))}</li>
              ))}
            </ul>
          )}
        </ErrorBanner>
      )}
      <form noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-6">
        {/* Lets a password manager file the new password under the right account. */}
        <input type="text" name="username" autoComplete="username" value={info.loginId} readOnly hidden />
        <NewPasswordFields
          password={password}
          onPasswordChange={(v) => {
            setPassword(v);
            setErrors((errs) => ({ ...errs, password: undefined }));
          }}
          confirm={confirm}
          onConfirmChange={(v) => {
            setConfirm(v);
            setErrors((errs) => ({ ...errs, confirm: undefined }));
          }}
          labels={{ password: t('auth.setup.password'), confirm: t('auth.setup.confirm') }}
          setupToken={token}
          userInputs={[info.tenant.slug, info.tenant.displayName, info.loginId, info.displayName]}
          limits={{ min: info.minLength, max: info.maxLength }}
          passwordError={errors.password}
          confirmError={errors.confirm}
          passwordRef={passwordRef}
          confirmRef={confirmRef}
        />
        <div>
          <Button type="submit" variant="solid-fill" size="lg" busy={busy}>
            {t('auth.setup.submit')}
          </Button>
        </div>
      </form>
    </>
  );
}

/**
 * Sign-in (AC-09, AC-10, AC-12): tenant (団体ID), login ID and password, then whatever the server
 * asks next (second factor, enrolment, forced password change), then home. Failures show only the
 * translated code: the same message for an unknown tenant, unknown login or wrong password.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { navigate } from '../../app/router';
import { useDocumentTitle } from '../../app/use-document-title';
import { Button } from '../../ui/button';
import { TextField } from '../../ui/form';
import { ErrorBanner } from '../../ui/messages';
import { NotificationBanner } from '../../ui/notification-banner';
import { PageHeading } from '../../ui/page-heading';
import { PasswordField } from '../../ui/password-field';
import { fetchLoginBanner, login, type NextStep } from './identity.api';
import { rememberedTenant, rememberTenant } from './remembered-tenant';
import { useSession } from './session';
import { SignInSteps } from './sign-in-steps';

const BANNER_DELAY_MS = 400;

/** The banner of the tenant typed so far (debounced); empty while unknown. */
function useLoginBanner(tenant: string): string {
  const [banner, setBanner] = useState('');
  const slug = tenant.trim().toLowerCase();
  useEffect(() => {
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug)) {
      setBanner('');
      return;
    }
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      fetchLoginBanner(slug, controller.signal)
        .then(setBanner)
        .catch(() => {
          if (!controller.signal.aborted) setBanner('');
        });
    }, BANNER_DELAY_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [slug]);
  return banner;
}

export function LoginPage() {
  const { t } = useTranslation();
  const session = useSession();
  const [step, setStep] = useState<NextStep | 'credentials'>('credentials');
  const [context, setContext] = useState<string[]>([]);
  useDocumentTitle(t('auth.login.title'));

  // Already signed in (another tab, the back button): straight home.
  useEffect(() => {
    session.ensureLoaded();
    if (session.state.status === 'signed-in' && step === 'credentials') navigate('/', { replace: true });
  }, [session, step]);

  async function advance(next: NextStep) {
    if (next !== 'done') {
      setStep(next);
      return;
    }
    await session.refresh();
    navigate('/', { replace: true });
  }

  if (step !== 'credentials' && step !== 'done') {
    return <SignInSteps next={step} onNext={(next) => void advance(next)} loginId={context[1] ?? ''} userInputs={context} />;
  }

  const code = session.state.status === 'signed-out' ? session.state.code : null;
  const notice: Notice | null = !code
    ? null
    : code === 'signed_out'
      ? { tone: 'success', text: t('auth.login.signedOut') }
      : { tone: 'warning', text: code === 'session.ended' ? t('auth.login.sessionEnded') : t('auth.login.interrupted') };

  return (
    <CredentialsForm
      notice={notice}
      onSignedIn={(next, words) => {
        setContext(words);
        void advance(next);
      }}
    />
  );
}

type Notice = { tone: 'success' | 'warning'; text: string };

function CredentialsForm({
  notice,
  onSignedIn,
}: {
  notice: Notice | null;
  onSignedIn: (next: NextStep, contextWords: string[]) => void;
}) {
  const { t } = useTranslation();
  const [tenant, setTenant] = useState(rememberedTenant);
  const [loginId, setLoginId] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<{ tenant?: string; loginId?: string; password?: string }>({});
  const [failure, setFailure] = useState<{ code: string; attempt: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const banner = useLoginBanner(tenant);
  const refs = {
    tenant: useRef<HTMLInputElement>(null),
    loginId: useRef<HTMLInputElement>(null),
    password: useRef<HTMLInputElement>(null),
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const found = {
      tenant: tenant.trim() ? undefined : t('form.fieldRequired', { field: t('auth.login.tenant') }),
      loginId: loginId.trim() ? undefined : t('form.fieldRequired', { field: t('auth.login.loginId') }),
      password: password ? undefined : t('form.fieldRequired', { field: t('auth.login.password') }),
    };
    setErrors(found);
    const first = (['tenant', 'loginId', 'password'] as const).find((k) => found[k]);
    if (first) {
      refs[first].current?.focus();
      return;
    }
    setBusy(true);
    try {
      const next = await login({ tenant: tenant.trim(), login: loginId.trim(), password });
      rememberTenant(tenant.trim());
      onSignedIn(next, [tenant.trim(), loginId.trim()]);
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), attempt: (f?.attempt ?? 0) + 1 }));
      setPassword('');
      setBusy(false);
    }
  }

  return (
    <div className="flex max-w-xl flex-col gap-6">
      <PageHeading>{t('auth.login.title')}</PageHeading>
      <p className="text-std-16N-170">{t('auth.login.lead')}</p>
      {notice && !failure && (
        <div role="status">
          <NotificationBanner
            tone={notice.tone}
            iconLabel={t(`icon.${notice.tone}`)}
            title={notice.text}
            data-testid="login-notice"
          />
        </div>
      )}
      {failure && (
        <ErrorBanner key={failure.attempt} title={t('auth.login.errorTitle')} code={failure.code} data-testid="login-error" />
      )}
      <form noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-6" data-testid="login-form">
        <TextField
          label={t('auth.login.tenant')}
          hint={t('auth.login.tenantHint')}
          required
          name="tenant"
          autoComplete="organization"
          autoCapitalize="off"
          spellCheck={false}
          value={tenant}
          onChange={(e) => setTenant(e.target.value)}
          error={errors.tenant}
          inputRef={refs.tenant}
          maxLength={63}
        />
        {/* The tenant's notice (AC-12) appears once the tenant is known; announced politely. */}
        <div aria-live="polite">
          {banner && (
            <NotificationBanner
              tone="warning"
              iconLabel={t('icon.warning')}
              title={t('auth.login.bannerTitle')}
              data-testid="login-banner"
            >
              <p className="whitespace-pre-line">{banner}</p>
            </NotificationBanner>
          )}
        </div>
        <TextField
          label={t('auth.login.loginId')}
          required
          name="username"
          autoComplete="username"
          autoCapitalize="off"
          spellCheck={false}
          value={loginId}
          onChange={(e) => setLoginId(e.target.value)}
          error={errors.loginId}
          inputRef={refs.loginId}
          maxLength={256}
        />
        <PasswordField
          label={t('auth.login.password')}
          autoComplete="current-password"
          required
          name="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          error={errors.password}
          inputRef={refs.password}
        />
        <div>
          <Button type="submit" variant="solid-fill" size="lg" busy={busy}>
            {t('auth.login.submit')}
          </Button>
        </div>
      </form>
    </div>
  );
}

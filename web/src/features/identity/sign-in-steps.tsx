/**
 * The steps after a password or a setup link, as the server asks for them (`next`): the second
 * factor (TOTP, or a recovery code), TOTP enrolment, a forced password change, the tenant's
 * acceptable-use notice. Each step has its own h1, focused when the step appears.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { Button } from '../../ui/button';
import { Checkbox, TextField } from '../../ui/form';
import { linkClass } from '../../ui/link';
import { ErrorBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';
import {
  acceptTerms,
  authenticateWithPasskey,
  fetchTerms,
  passkeysSupported,
  verifyRecoveryCode,
  verifyTotp,
  type NextStep,
  type Terms,
} from './identity.api';
import { PasswordChangeForm } from './password-change-form';
import { MfaEnrollmentFlow } from './mfa-enrollment';
import { normalizeCode, TotpCodeField } from './totp-code-field';

export function SignInSteps({
  next,
  onNext,
  loginId,
  userInputs,
}: {
  next: Exclude<NextStep, 'done'>;
  onNext: (next: NextStep) => void;
  loginId: string;
  /** Tenant, login ID, name: for the strength estimate of a new password. */
  userInputs: readonly string[];
}) {
  if (next === 'mfa') return <SecondFactorStep onNext={onNext} />;
  if (next === 'mfa_enroll') return <MfaEnrollmentFlow onDone={onNext} />;
  if (next === 'terms') return <TermsStep onNext={onNext} />;
  return <ForcedPasswordChange onNext={onNext} loginId={loginId} userInputs={userInputs} />;
}

function SecondFactorStep({ onNext }: { onNext: (next: NextStep) => void }) {
  const { t } = useTranslation();
  const [mode, setMode] = useState<'totp' | 'recovery'>('totp');
  const [code, setCode] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [failure, setFailure] = useState<{ code: string; attempt: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const [passkeyBusy, setPasskeyBusy] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);

  async function verifyWithPasskey() {
    if (busy || passkeyBusy) return;
    setPasskeyBusy(true);
    try {
      onNext(await authenticateWithPasskey());
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), attempt: (f?.attempt ?? 0) + 1 }));
      setPasskeyBusy(false);
    }
  }

  function switchMode(to: 'totp' | 'recovery') {
    setMode(to);
    setCode('');
    setFieldError(undefined);
    setFailure(null);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const value = normalizeCode(code);
    const valid = mode === 'totp' ? /^\d{6}$/.test(value) : /^[a-z0-9]{12}$/i.test(value);
    if (!valid) {
      setFieldError(
        mode === 'totp' ? t('errors.auth.totp_format') : t('form.fieldRequired', { field: t('auth.mfa.recoveryCode') }),
      );
      inputRef.current?.focus();
      return;
    }
    setFieldError(undefined);
    setBusy(true);
    try {
      onNext(mode === 'totp' ? await verifyTotp(value) : await verifyRecoveryCode(code));
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), attempt: (f?.attempt ?? 0) + 1 }));
      setCode('');
      setBusy(false);
    }
  }

  return (
    <div className="flex max-w-xl flex-col gap-6" data-testid="mfa-step" data-mode={mode}>
      <PageHeading focusOnMount key={mode}>
        {mode === 'totp' ? t('auth.mfa.title') : t('auth.mfa.recoveryTitle')}
      </PageHeading>
      <p className="text-std-16N-170">{mode === 'totp' ? t('auth.mfa.lead') : t('auth.mfa.recoveryLead')}</p>
      {failure && <ErrorBanner key={failure.attempt} title={t('auth.mfa.errorTitle')} code={failure.code} />}
      <form noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-6">
        {mode === 'totp' ? (
          <TotpCodeField value={code} onChange={setCode} error={fieldError} inputRef={inputRef} />
        ) : (
          <TextField
            label={t('auth.mfa.recoveryCode')}
            hint={t('auth.mfa.recoveryHint')}
            required
            value={code}
            onChange={(e) => setCode(e.target.value)}
            error={fieldError}
            inputRef={inputRef}
            autoComplete="off"
            autoCapitalize="off"
            spellCheck={false}
            maxLength={20}
            className="max-w-80 font-mono"
          />
        )}
        <div>
          <Button type="submit" variant="solid-fill" size="lg" busy={busy}>
            {t('auth.mfa.submit')}
          </Button>
        </div>
      </form>
      {passkeysSupported() && (
        <section aria-labelledby="mfa-passkey" className="flex flex-col gap-3 border-t border-solid-gray-420 pt-6">
          <h2 id="mfa-passkey" className="text-std-20B-150 text-solid-gray-900">
            {t('auth.passkey.signInTitle')}
          </h2>
          <p className="text-std-16N-170">{t('auth.passkey.signInLead')}</p>
          <div>
            <Button variant="outline" size="lg" busy={passkeyBusy} onClick={() => void verifyWithPasskey()}>
              {t('auth.passkey.verify')}
            </Button>
          </div>
        </section>
      )}
      <p className="text-std-16N-170">
        <button
          type="button"
          className={`${linkClass} min-h-11 text-left`}
          onClick={() => switchMode(mode === 'totp' ? 'recovery' : 'totp')}
        >
          {mode === 'totp' ? t('auth.mfa.useRecovery') : t('auth.mfa.useTotp')}
        </button>
      </p>
    </div>
  );
}

function ForcedPasswordChange({
  onNext,
  loginId,
  userInputs,
}: {
  onNext: (next: NextStep) => void;
  loginId: string;
  userInputs: readonly string[];
}) {
  const { t } = useTranslation();
  return (
    <div className="flex max-w-2xl flex-col gap-6" data-testid="password-change-step">
      <PageHeading focusOnMount>{t('auth.passwordChange.forcedTitle')}</PageHeading>
      <p className="text-std-16N-170">{t('auth.passwordChange.forcedLead')}</p>
      <PasswordChangeForm userInputs={userInputs} loginId={loginId} onChanged={onNext} />
    </div>
  );
}

/** The acceptable-use notice (利用上の注意, HR-03): read, tick, accept this version. */
function TermsStep({ onNext }: { onNext: (next: NextStep) => void }) {
  const { t } = useTranslation();
  const [terms, setTerms] = useState<Terms | null>(null);
  const [agreed, setAgreed] = useState(false);
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [failure, setFailure] = useState<{ code: string; attempt: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const checkboxRef = useRef<HTMLInputElement>(null);

  const load = useCallback(() => {
    fetchTerms()
      .then(setTerms)
      .catch((err: unknown) => setFailure((f) => ({ code: errorCode(err), attempt: (f?.attempt ?? 0) + 1 })));
  }, []);
  useEffect(load, [load]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy || !terms) return;
    if (!agreed) {
      setFieldError(t('auth.terms.agreeRequired'));
      checkboxRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      onNext(await acceptTerms(terms.version));
    } catch (err) {
      const code = errorCode(err);
      setFailure((f) => ({ code, attempt: (f?.attempt ?? 0) + 1 }));
      // A newer version was published meanwhile: show it and ask again.
      if (code === 'auth.terms_outdated') {
        setAgreed(false);
        load();
      }
      setBusy(false);
    }
  }

  return (
    <div className="flex max-w-3xl flex-col gap-6" data-testid="terms-step">
      <PageHeading focusOnMount>{t('auth.terms.title')}</PageHeading>
      <p className="text-std-16N-170">{t('auth.terms.lead')}</p>
      {failure && <ErrorBanner key={failure.attempt} title={t('auth.terms.errorTitle')} code={failure.code} />}
      {!terms && !failure && <p className="text-std-16N-170">{t('auth.terms.loading')}</p>}
      {terms && (
        <form noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-6">
          <div
            role="region"
            aria-label={t('auth.terms.textLabel')}
            tabIndex={0}
            className="max-h-96 overflow-y-auto rounded-8 border border-solid-gray-420 bg-solid-gray-50 p-4 text-std-16N-170 whitespace-pre-line text-solid-gray-900 focus-visible:outline-4 focus-visible:outline-black"
            data-testid="terms-text"
            data-version={terms.version}
          >
            {terms.text}
          </div>
          <Checkbox
            ref={checkboxRef}
            checked={agreed}
            onChange={(e) => {
              setAgreed(e.target.checked);
              if (e.target.checked) setFieldError(undefined);
            }}
            error={fieldError}
          >
            {t('auth.terms.agree')}
          </Checkbox>
          <div>
            <Button type="submit" variant="solid-fill" size="lg" busy={busy}>
              {t('auth.terms.submit')}
            </Button>
          </div>
        </form>
      )}
    </div>
  );
}

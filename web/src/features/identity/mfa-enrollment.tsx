/**
 * Second-factor enrolment (AC-09): the user chooses an authenticator app (TOTP) or a passkey
 * (WebAuthn: the device's biometrics or PIN, or a security key). The first second factor answers
 * the ten recovery codes, shown once; a further passkey answers none and the flow ends at once.
 */
import { useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Button } from '../../ui/button';
import { focusRing, TextField } from '../../ui/form';
import { ErrorBanner } from '../../ui/messages';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { passkeysSupported, registerPasskey, type NextStep } from './identity.api';
import { guardedErrorCode, RecoveryCodes, TotpSetup, type Guard } from './totp-enrollment';

type Method = 'totp' | 'passkey';

export function MfaEnrollmentFlow({
  onDone,
  headingLevel = 'h1',
  guard,
}: {
  onDone: (next: NextStep) => void;
  /** h1 when it is the page's main step (sign-in), h2 inside the account page. */
  headingLevel?: 'h1' | 'h2';
  /** On the account page: `useStepUp().run` (adding a factor needs a recent verification). */
  guard?: Guard;
}) {
  const { t } = useTranslation();
  const [method, setMethod] = useState<Method>('totp');
  const [codes, setCodes] = useState<{ next: NextStep; recoveryCodes: string[] } | null>(null);

  const finished = (next: NextStep, recoveryCodes: string[]) => {
    if (recoveryCodes.length > 0) setCodes({ next, recoveryCodes });
    else onDone(next);
  };

  if (codes) {
    return <RecoveryCodes codes={codes.recoveryCodes} onContinue={() => onDone(codes.next)} headingLevel={headingLevel} />;
  }

  return (
    <div className="flex flex-col gap-6" data-testid="mfa-enrollment" data-method={method}>
      {headingLevel === 'h1' ? (
        <PageHeading focusOnMount>{t('auth.enroll.title')}</PageHeading>
      ) : (
        <SectionHeading>{t('auth.enroll.title')}</SectionHeading>
      )}
      <p className="text-std-16N-170">{t('auth.enroll.chooseLead')}</p>
      <fieldset className="flex flex-col gap-1">
        <legend className="mb-2 text-std-17B-170 text-solid-gray-900">{t('auth.enroll.methodLegend')}</legend>
        {(['totp', 'passkey'] as const).map((m) => (
          <label key={m} className="flex min-h-11 w-fit cursor-pointer items-start gap-3 py-2">
            <input
              type="radio"
              name="mfa-method"
              value={m}
              checked={method === m}
              onChange={() => setMethod(m)}
              className={`mt-0.5 size-6 shrink-0 accent-blue-900 ${focusRing}`}
            />
            <span className="flex flex-col">
              <span className="text-std-16B-170 text-solid-gray-900">{t(`auth.enroll.method_${m}`)}</span>
              <span className="text-std-16N-170 text-solid-gray-700">{t(`auth.enroll.method_${m}Hint`)}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {method === 'totp' ? (
        <TotpSetup onConfirmed={finished} guard={guard} />
      ) : (
        <PasskeySetup onRegistered={finished} guard={guard} />
      )}
    </div>
  );
}

/** Name the passkey (optional) and create it with the browser's own prompt. */
export function PasskeySetup({
  onRegistered,
  submitLabel,
  guard,
}: {
  onRegistered: (next: NextStep, recoveryCodes: string[]) => void;
  submitLabel?: string;
  guard?: Guard;
}) {
  const { t } = useTranslation();
  const [name, setName] = useState('');
  const [failure, setFailure] = useState<{ code: string; attempt: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const nameRef = useRef<HTMLInputElement>(null);
  const supported = passkeysSupported();

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    try {
      const register = () => registerPasskey(name.trim());
      const result = guard ? await guard(register) : await register();
      onRegistered(result.next, result.recoveryCodes);
    } catch (err) {
      setFailure((f) => ({ code: guardedErrorCode(err), attempt: (f?.attempt ?? 0) + 1 }));
      setBusy(false);
    }
  }

  return (
    <form noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-6" data-testid="passkey-setup">
      <p className="text-std-16N-170">{t('auth.passkey.setupLead')}</p>
      {!supported && <ErrorBanner title={t('auth.passkey.errorTitle')} code="passkey.unsupported" focus={false} />}
      {failure && <ErrorBanner key={failure.attempt} title={t('auth.passkey.errorTitle')} code={failure.code} />}
      <TextField
        label={t('auth.passkey.name')}
        hint={t('auth.passkey.nameHint')}
        value={name}
        onChange={(e) => setName(e.target.value)}
        inputRef={nameRef}
        maxLength={100}
        autoComplete="off"
        className="max-w-96"
      />
      <div>
        <Button type="submit" variant="solid-fill" size="lg" busy={busy || !supported}>
          {submitLabel ?? t('auth.passkey.register')}
        </Button>
      </div>
    </form>
  );
}

/**
 * TOTP enrolment (AC-09, chosen in mfa-enrollment.tsx): a new secret from the server shown as a QR code (a data: URL, no external
 * service) and as the base32 key for manual entry; a first code confirms it; then the ten recovery
 * codes are shown once and the user must tick 「保管しました」 before going on.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { Button } from '../../ui/button';
import { Checkbox } from '../../ui/form';
import { ErrorBanner } from '../../ui/messages';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { confirmTotpEnrollment, startTotpEnrollment, type NextStep, type TotpEnrollment } from './identity.api';
import { StepUpCancelled } from './step-up';
import { normalizeCode, TotpCodeField } from './totp-code-field';

type Phase = { phase: 'loading' } | { phase: 'failed'; code: string } | { phase: 'scan'; enrollment: TotpEnrollment };

/** Base32 key in groups of four for reading aloud or typing. */
function grouped(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

/** The TOTP part of enrolment (below the enrolment heading): QR code, key, first code. */
export function TotpSetup({
  onConfirmed,
  guard = direct,
}: {
  onConfirmed: (next: NextStep, recoveryCodes: string[]) => void;
  /** On a signed-in session, `useStepUp().run`: the server asks for a recent verification first. */
  guard?: Guard;
}) {
  const { t } = useTranslation();
  const [state, setState] = useState<Phase>({ phase: 'loading' });
  const started = useRef(false);

  useEffect(() => {
    // One secret per visit, even when React runs effects twice in development.
    if (started.current) return;
    started.current = true;
    guard(startTotpEnrollment)
      .then((enrollment) => setState({ phase: 'scan', enrollment }))
      .catch((err: unknown) => setState({ phase: 'failed', code: guardedErrorCode(err) }));
  }, [guard]);

  return (
    <div className="flex flex-col gap-6" data-testid="totp-enrollment">
      <p className="text-std-16N-170">{t('auth.enroll.lead')}</p>
      {state.phase === 'loading' && <p className="text-std-16N-170">{t('auth.enroll.loading')}</p>}
      {state.phase === 'failed' && <ErrorBanner title={t('auth.enroll.errorTitle')} code={state.code} />}
      {state.phase === 'scan' && <ScanAndConfirm enrollment={state.enrollment} onConfirmed={onConfirmed} guard={guard} />}
    </div>
  );
}

function ScanAndConfirm({
  enrollment,
  onConfirmed,
  guard,
}: {
  enrollment: TotpEnrollment;
  onConfirmed: (next: NextStep, codes: string[]) => void;
  guard: Guard;
}) {
  const { t } = useTranslation();
  const [code, setCode] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [failure, setFailure] = useState<{ code: string; attempt: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const codeRef = useRef<HTMLInputElement>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const value = normalizeCode(code);
    if (!/^\d{6}$/.test(value)) {
      setFieldError(t('errors.auth.totp_format'));
      codeRef.current?.focus();
      return;
    }
    setFieldError(undefined);
    setBusy(true);
    try {
      const result = await guard(() => confirmTotpEnrollment(value));
      onConfirmed(result.next, result.recoveryCodes);
    } catch (err) {
      setFailure((f) => ({ code: guardedErrorCode(err), attempt: (f?.attempt ?? 0) + 1 }));
      setCode('');
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <section className="flex flex-col gap-4">
        <p className="text-std-17B-170 text-solid-gray-900">{t('auth.enroll.step1')}</p>
        <img
          src={enrollment.qrDataUrl}
          alt={t('auth.enroll.qrAlt')}
          width={240}
          height={240}
          className="size-60 border border-solid-gray-420"
          data-testid="totp-qr"
        />
        <p className="text-std-16N-170">{t('auth.enroll.manual')}</p>
        <dl className="flex flex-col gap-1">
          <dt className="text-std-16B-170 text-solid-gray-900">{t('auth.enroll.secretLabel')}</dt>
          <dd>
            <code
              className="rounded-4 bg-solid-gray-50 px-2 py-1 text-mono-17B-150 break-all text-solid-gray-900"
              data-testid="totp-secret"
            >
              {grouped(enrollment.secret)}
            </code>
          </dd>
          <dd className="text-std-16N-170 text-solid-gray-700" data-testid="totp-uri" data-uri={enrollment.otpauthUri}>
            {t('auth.enroll.method', { algorithm: enrollment.algorithm.replace(/^SHA(?=\d)/, 'SHA-') })}
          </dd>
        </dl>
      </section>
      <form noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-6">
        <p className="text-std-17B-170 text-solid-gray-900">{t('auth.enroll.step2')}</p>
        {failure && <ErrorBanner key={failure.attempt} title={t('auth.enroll.errorTitle')} code={failure.code} />}
        <TotpCodeField value={code} onChange={setCode} error={fieldError} inputRef={codeRef} />
        <div>
          <Button type="submit" variant="solid-fill" size="lg" busy={busy}>
            {t('auth.enroll.submit')}
          </Button>
        </div>
      </form>
    </>
  );
}

/** Runs a request that may need a recent step-up (the account page passes `useStepUp().run`). */
export type Guard = <T>(action: () => Promise<T>) => Promise<T>;

const direct: Guard = (action) => action();

/** The error code to show; closing the step-up dialog leaves the step-up itself as the reason. */
export function guardedErrorCode(err: unknown): string {
  return err instanceof StepUpCancelled ? 'auth.step_up_required' : errorCode(err);
}

/** The recovery codes, shown once, with copy and print and a 「保管しました」 check before going on. */
export function RecoveryCodes({
  codes,
  onContinue,
  headingLevel = 'h1',
}: {
  codes: string[];
  onContinue: () => void;
  headingLevel?: 'h1' | 'h2';
}) {
  const { t } = useTranslation();
  const [stored, setStored] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [copied, setCopied] = useState<'ok' | 'failed' | null>(null);
  const checkboxRef = useRef<HTMLInputElement>(null);

  async function copy() {
    try {
      await navigator.clipboard.writeText(codes.join('\n'));
      setCopied('ok');
    } catch {
      setCopied('failed');
    }
  }

  function proceed() {
    if (!stored) {
      setError(t('auth.recoveryCodes.storedRequired'));
      checkboxRef.current?.focus();
      return;
    }
    onContinue();
  }

  return (
    <div className="flex flex-col gap-6" data-testid="recovery-codes">
      {headingLevel === 'h1' ? (
        <PageHeading focusOnMount>{t('auth.recoveryCodes.title')}</PageHeading>
      ) : (
        <SectionHeading>{t('auth.recoveryCodes.title')}</SectionHeading>
      )}
      <p className="text-std-16N-170">{t('auth.recoveryCodes.lead')}</p>
      <p className="text-std-16N-170">{t('auth.recoveryCodes.hint')}</p>
      <section aria-labelledby="recovery-codes-label" className="flex flex-col gap-3">
        <h3 id="recovery-codes-label" className="text-std-17B-170 text-solid-gray-900">
          {t('auth.recoveryCodes.listLabel', { count: codes.length })}
        </h3>
        <ol className="grid w-fit grid-cols-1 gap-x-8 gap-y-2 rounded-8 border border-solid-gray-420 bg-solid-gray-50 p-4 sm:grid-cols-2">
          {codes.map((code) => (
            <li key={code} className="text-mono-17B-150 text-solid-gray-900" data-testid="recovery-code">
              {code}
            </li>
          ))}
        </ol>
      </section>
      <div className="flex flex-wrap gap-4">
        <Button variant="outline" size="md" onClick={() => void copy()}>
          {t('auth.recoveryCodes.copy')}
        </Button>
        <Button variant="outline" size="md" onClick={() => window.print()}>
          {t('auth.recoveryCodes.print')}
        </Button>
      </div>
      <p role="status" className="text-std-16N-170">
        {copied === 'ok' ? t('form.copied') : copied === 'failed' ? t('form.copyFailed') : ''}
      </p>
      <Checkbox
        ref={checkboxRef}
        checked={stored}
        onChange={(e) => {
          setStored(e.target.checked);
          if (e.target.checked) setError(undefined);
        }}
        error={error}
      >
        {t('auth.recoveryCodes.stored')}
      </Checkbox>
      <div>
        <Button variant="solid-fill" size="lg" onClick={proceed}>
          {t('auth.recoveryCodes.continue')}
        </Button>
      </div>
    </div>
  );
}

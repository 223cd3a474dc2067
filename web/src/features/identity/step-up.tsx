/**
 * Step-up re-authentication (AC-13): admin changes answer 403 `auth.step_up_required` when the last
 * verification is older than the tenant's limit. `useStepUp().run(action)` then asks for a TOTP
 * code (or the password for users without TOTP), or a passkey, in a dialog and retries the action once.
 */
import { useCallback, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { Button } from '../../ui/button';
import { Dialog } from '../../ui/dialog';
import { ErrorBanner } from '../../ui/messages';
import { PasswordField } from '../../ui/password-field';
import { authenticateWithPasskey, passkeysSupported, stepUp } from './identity.api';
import { useMe } from './session';
import { normalizeCode, TotpCodeField } from './totp-code-field';

/** Thrown by `run` when the user closes the step-up dialog instead of confirming. */
export class StepUpCancelled extends Error {
  constructor() {
    super('step-up cancelled');
    this.name = 'StepUpCancelled';
  }
}

export function useStepUp(): { run: <T>(action: () => Promise<T>) => Promise<T>; dialog: ReactNode } {
  const [open, setOpen] = useState(false);
  const pending = useRef<{ resolve: () => void; reject: (err: Error) => void } | null>(null);

  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (err) {
      if (errorCode(err) !== 'auth.step_up_required') throw err;
      await new Promise<void>((resolve, reject) => {
        pending.current = { resolve, reject };
        setOpen(true);
      });
      return action();
    }
  }, []);

  const finish = (ok: boolean) => {
    setOpen(false);
    const p = pending.current;
    pending.current = null;
    if (ok) p?.resolve();
    else p?.reject(new StepUpCancelled());
  };

  return { run, dialog: <StepUpDialog open={open} onVerified={() => finish(true)} onCancel={() => finish(false)} /> };
}

function StepUpDialog({ open, onVerified, onCancel }: { open: boolean; onVerified: () => void; onCancel: () => void }) {
  const { t } = useTranslation();
  const me = useMe();
  const usesTotp = me.mfa.totp;
  const hasPasskey = (me.mfa.passkeys ?? 0) > 0 && passkeysSupported();
  const [passkeyBusy, setPasskeyBusy] = useState(false);
  const [value, setValue] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [failure, setFailure] = useState<{ code: string; attempt: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);

  function reset() {
    setValue('');
    setFieldError(undefined);
    setFailure(null);
    setBusy(false);
    setPasskeyBusy(false);
  }

  async function verifyWithPasskey() {
    if (busy || passkeyBusy) return;
    setPasskeyBusy(true);
    try {
      await authenticateWithPasskey();
      reset();
      onVerified();
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), attempt: (f?.attempt ?? 0) + 1 }));
      setPasskeyBusy(false);
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const code = normalizeCode(value);
    if (usesTotp ? !/^\d{6}$/.test(code) : !value) {
      setFieldError(usesTotp ? t('errors.auth.totp_format') : t('form.fieldRequired', { field: t('auth.login.password') }));
      inputRef.current?.focus();
      return;
    }
    setFieldError(undefined);
    setBusy(true);
    try {
      await stepUp(usesTotp ? { code } : { password: value });
      reset();
      onVerified();
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), attempt: (f?.attempt ?? 0) + 1 }));
      setValue('');
      setBusy(false);
    }
  }

  return (
    <Dialog
      open={open}
      title={t('auth.stepUp.title')}
      onCancel={() => {
        reset();
        onCancel();
      }}
      initialFocus={inputRef}
      data-testid="step-up-dialog"
    >
      <form noValidate onSubmit={(e) => void submit(e)} className="flex flex-col gap-6">
        <p>
          {usesTotp ? t('auth.stepUp.leadTotp') : t('auth.stepUp.leadPassword')}
          {hasPasskey && ` ${t('auth.stepUp.orPasskey')}`}
        </p>
        {failure && <ErrorBanner key={failure.attempt} title={t('auth.stepUp.errorTitle')} code={failure.code} focus={false} />}
        {usesTotp ? (
          <TotpCodeField value={value} onChange={setValue} error={fieldError} inputRef={inputRef} />
        ) : (
          <PasswordField
            label={t('auth.login.password')}
            autoComplete="current-password"
            required
            value={value}
            onChange={(e) => setValue(e.target.value)}
            error={fieldError}
            inputRef={inputRef}
          />
        )}
        <div className="flex flex-wrap gap-4">
          <Button type="submit" variant="solid-fill" size="md" busy={busy}>
            {t('auth.stepUp.submit')}
          </Button>
          {hasPasskey && (
            <Button variant="outline" size="md" busy={passkeyBusy} onClick={() => void verifyWithPasskey()}>
              {t('auth.passkey.verify')}
            </Button>
          )}
          <Button
            variant="outline"
            size="md"
            onClick={() => {
              reset();
              onCancel();
            }}
          >
            {t('form.cancel')}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

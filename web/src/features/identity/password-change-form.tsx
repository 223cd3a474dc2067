/**
 * Password change (AC-16): current password, new password and confirmation, with live policy
 * feedback. Used for the forced change during sign-in and on the account page. A rejection shows
 * the server's reasons, translated.
 */
import { useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, errorCode } from '../../api/api-client';
import { Button } from '../../ui/button';
import { ErrorBanner } from '../../ui/messages';
import { PasswordField } from '../../ui/password-field';
import { changePassword, type NextStep } from './identity.api';
import { NewPasswordFields } from './new-password-fields';
import { passwordReasonKey } from './password-reasons';

export function PasswordChangeForm({
  userInputs,
  onChanged,
  loginId,
}: {
  userInputs: readonly string[];
  onChanged: (next: NextStep) => void;
  /** Lets a password manager file the new password under the right account. */
  loginId?: string;
}) {
  const { t } = useTranslation();
  const [current, setCurrent] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<{ current?: string; password?: string; confirm?: string }>({});
  const [failure, setFailure] = useState<{ code: string; reasons: readonly string[]; attempt: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const currentRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const confirmRef = useRef<HTMLInputElement>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const found = {
      current: current ? undefined : t('form.fieldRequired', { field: t('auth.passwordChange.current') }),
      password: password ? undefined : t('form.fieldRequired', { field: t('auth.passwordChange.new') }),
      confirm: !confirm
        ? t('form.fieldRequired', { field: t('auth.passwordChange.confirm') })
        : confirm !== password
          ? t('password.reasons.mismatch')
          : undefined,
    };
    setErrors(found);
    if (found.current) return currentRef.current?.focus();
    if (found.password) return passwordRef.current?.focus();
    if (found.confirm) return confirmRef.current?.focus();
    setBusy(true);
    try {
      const next = await changePassword({ currentPassword: current, newPassword: password, confirmPassword: confirm });
      setCurrent('');
      setPassword('');
      setConfirm('');
      setFailure(null);
      onChanged(next);
    } catch (err) {
      const code = errorCode(err);
      setFailure((f) => ({ code, reasons: err instanceof ApiError ? err.reasons : [], attempt: (f?.attempt ?? 0) + 1 }));
      if (code === 'password.current_invalid') setCurrent('');
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      noValidate
      onSubmit={(e) => void submit(e)}
      className="flex max-w-2xl flex-col gap-6"
      data-testid="password-change-form"
    >
      {failure && (
        <ErrorBanner key={failure.attempt} title={t('auth.passwordChange.errorTitle')} code={failure.code}>
          {failure.reasons.length > 0 && (
            <ul className="ml-6 list-disc">
              {failure.reasons.map((r) => (
                <li key={r} data-reason={r}>
                  {t(passwordReasonKey(r))}
                </li>
              ))}
            </ul>
          )}
        </ErrorBanner>
      )}
      {loginId && <input type="text" name="username" autoComplete="username" value={loginId} readOnly hidden />}
      <PasswordField
        label={t('auth.passwordChange.current')}
        autoComplete="current-password"
        required
        value={current}
        onChange={(e) => {
          setCurrent(e.target.value);
          setErrors((errs) => ({ ...errs, current: undefined }));
        }}
        error={errors.current}
        inputRef={currentRef}
      />
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
        labels={{ password: t('auth.passwordChange.new'), confirm: t('auth.passwordChange.confirm') }}
        userInputs={userInputs}
        passwordError={errors.password}
        confirmError={errors.confirm}
        passwordRef={passwordRef}
        confirmRef={confirmRef}
      />
      <div>
        <Button type="submit" variant="solid-fill" size="lg" busy={busy}>
          {t('auth.passwordChange.submit')}
        </Button>
      </div>
    </form>
  );
}

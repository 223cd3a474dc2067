/**
 * The outside party's proof before anything is shown: a 6-digit one-time code mailed to the
 * address the staff member entered (shown masked), or the link's password for password-only
 * links. 「コードを送信」 mails a new code (at most once a minute); five wrong codes lock the link
 * for 30 minutes. Each refusal is said in words (exchange.code_invalid / code_locked / code_too_soon).
 */
import { useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { Button } from '../../ui/button';
import { TextField } from '../../ui/form';
import { ErrorBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';
import { PasswordField } from '../../ui/password-field';
import type { Verification } from './exchange.api';

export function ExternalVerify({
  kind,
  emailHint,
  heading,
  onSendCode,
  onVerify,
}: {
  /** What the link asks for: a mailed code, or the password the sender passed on separately. */
  kind: Verification;
  emailHint: string;
  heading: string;
  onSendCode: () => Promise<void>;
  /** Resolves when the proof was accepted; rejects with the ApiError otherwise. */
  onVerify: (proof: { code: string } | { password: string }) => Promise<void>;
}) {
  const { t } = useTranslation();
  useDocumentTitle(heading);
  const [value, setValue] = useState('');
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [sent, setSent] = useState(0);
  const [sending, setSending] = useState(false);
  const [busy, setBusy] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const fail = (err: unknown) => setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));

  async function sendCode() {
    if (sending) return;
    setSending(true);
    try {
      await onSendCode();
      setFailure(null);
      setSent((n) => n + 1);
      inputRef.current?.focus();
    } catch (err) {
      fail(err);
    } finally {
      setSending(false);
    }
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    let proof: { code: string } | { password: string };
    if (kind === 'code') {
      // Full-width digits typed with a Japanese IME count as digits.
      const code = value.normalize('NFKC').replace(/[\s-]/g, '');
      if (!/^\d{6}$/.test(code)) {
        setFieldError(t('exchange.ext.codeFormat'));
        inputRef.current?.focus();
        return;
      }
      proof = { code };
    } else {
      if (!value) {
        setFieldError(t('form.fieldRequired', { field: t('exchange.ext.password') }));
        inputRef.current?.focus();
        return;
      }
      proof = { password: value };
    }
    setFieldError(undefined);
    setBusy(true);
    try {
      await onVerify(proof);
    } catch (err) {
      setValue('');
      fail(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex flex-col gap-8" data-testid="ext-verify">
      <div className="flex flex-col gap-4">
        <PageHeading>{heading}</PageHeading>
        {kind === 'code' ? (
          <>
            <p className="text-std-16N-170">{t('exchange.ext.codeLead', { email: emailHint })}</p>
            <p className="text-std-16N-170">{t('exchange.ext.codeLead2')}</p>
          </>
        ) : (
          <p className="text-std-16N-170">{t('exchange.ext.passwordLead')}</p>
        )}
      </div>
      {failure && (
        <ErrorBanner key={failure.n} title={t('exchange.ext.verifyErrorTitle')} code={failure.code} data-testid="verify-error" />
      )}
      {kind === 'code' && (
        <div className="flex flex-col gap-3">
          <div>
            <Button variant="outline" size="lg" busy={sending} onClick={() => void sendCode()} data-testid="send-code">
              {sent > 0 ? t('exchange.ext.resendCode') : t('exchange.ext.sendCode')}
            </Button>
          </div>
          <p role="status" className="text-std-16N-170" data-testid="code-sent">
            {sent > 0 ? t('exchange.ext.codeSent', { email: emailHint }) : ''}
          </p>
        </div>
      )}
      <form noValidate onSubmit={(e) => void submit(e)} className="flex max-w-md flex-col gap-6">
        {kind === 'code' ? (
          <TextField
            label={t('exchange.ext.code')}
            hint={t('exchange.ext.codeHint')}
            required
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={12}
            value={value}
            onChange={(e) => setValue(e.target.value)}
            error={fieldError}
            inputRef={inputRef}
            className="max-w-48 font-mono tracking-widest"
            data-testid="code-input"
          />
        ) : (
          <PasswordField
            label={t('exchange.ext.password')}
            autoComplete="current-password"
            required
            value={value}
            onChange={(e) => setValue(e.target.value)}
            error={fieldError}
            inputRef={inputRef}
            data-testid="password-input"
          />
        )}
        <div>
          <Button type="submit" variant="solid-fill" size="lg" busy={busy} data-testid="verify-submit">
            {t('exchange.ext.verify')}
          </Button>
        </div>
      </form>
    </div>
  );
}

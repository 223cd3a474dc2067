/** The 6-digit verification code input: numeric keyboard, one-time-code autofill, full-width digits accepted. */
import type { Ref } from 'react';
import { useTranslation } from 'react-i18next';
import { TextField } from '../../ui/form';

/** Full-width digits and spaces ("１２３ ４５６") become "123456", as the server expects. */
export function normalizeCode(raw: string): string {
  return raw.normalize('NFKC').replace(/[\s-]+/g, '');
}

export function TotpCodeField({
  value,
  onChange,
  error,
  label,
  inputRef,
}: {
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  label?: string;
  inputRef?: Ref<HTMLInputElement>;
}) {
  const { t } = useTranslation();
  return (
    <TextField
      label={label ?? t('auth.mfa.code')}
      hint={t('auth.mfa.codeHint')}
      required
      value={value}
      onChange={(e) => onChange(e.target.value)}
      error={error}
      inputRef={inputRef}
      inputMode="numeric"
      autoComplete="one-time-code"
      pattern="[0-9０-９ ]*"
      maxLength={8}
      spellCheck={false}
      className="max-w-48 font-mono tracking-widest"
      name="totp"
    />
  );
}

/**
 * Password input with a show/hide toggle. Paste is allowed (password managers, NIST SP 800-63B);
 * `autoComplete` tells managers whether this is the current or a new password. The toggle is a
 * real button with aria-pressed, so its state is announced.
 */
import { useState, type ComponentProps, type ReactNode, type Ref } from 'react';
import { useTranslation } from 'react-i18next';
import { ErrorText, inputClass, Label, SupportText, useFieldIds } from './form';

export type PasswordFieldProps = Omit<ComponentProps<'input'>, 'id' | 'type' | 'autoComplete'> & {
  label: ReactNode;
  autoComplete: 'current-password' | 'new-password';
  hint?: ReactNode | undefined;
  error?: ReactNode | undefined;
  /** Id of live feedback shown below (policy reasons), added to aria-describedby. */
  feedbackId?: string | undefined;
  feedback?: ReactNode;
  inputRef?: Ref<HTMLInputElement>;
};

export function PasswordField({
  label,
  hint,
  error,
  required,
  feedbackId,
  feedback,
  inputRef,
  className,
  ...rest
}: PasswordFieldProps) {
  const { t } = useTranslation();
  const [visible, setVisible] = useState(false);
  const ids = useFieldIds(hint, error, feedbackId);
  return (
    <div className="flex flex-col gap-2">
      <Label htmlFor={ids.id} required={required ?? false}>
        {label}
      </Label>
      {hint && <SupportText id={ids.hintId}>{hint}</SupportText>}
      <div className="flex flex-wrap items-stretch gap-2">
        <input
          ref={inputRef}
          id={ids.id}
          type={visible ? 'text' : 'password'}
          spellCheck={false}
          autoCapitalize="off"
          autoCorrect="off"
          aria-describedby={ids.describedBy}
          aria-invalid={ids.invalid}
          aria-required={required || undefined}
          className={`${inputClass} min-w-0 flex-1 basis-64 font-mono ${className ?? ''}`}
          {...rest}
        />
        <button
          type="button"
          aria-pressed={visible}
          aria-controls={ids.id}
          onClick={() => setVisible((v) => !v)}
          className="min-h-14 min-w-24 rounded-8 border border-current bg-white px-4 text-oln-16B-100 text-blue-900 underline-offset-[calc(3/16*1rem)] hover:bg-blue-200 hover:text-blue-1000 hover:underline focus-visible:outline-4 focus-visible:outline-black focus-visible:outline-offset-[calc(2/16*1rem)] focus-visible:ring-[calc(2/16*1rem)] focus-visible:ring-yellow-300"
        >
          {t('form.showPassword')}
          <span className="sr-only">（{label}）</span>
        </button>
      </div>
      {error && <ErrorText id={ids.errorId}>{error}</ErrorText>}
      {feedback}
    </div>
  );
}

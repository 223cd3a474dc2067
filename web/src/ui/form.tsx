/**
 * Form controls after the DADS patterns: a visible label above the control, a required badge,
 * support text and error text linked to the control through aria-describedby, 56 px high inputs,
 * and the black-outline-over-yellow focus ring.
 */
import { useId, type ComponentProps, type ReactNode, type Ref } from 'react';
import { useTranslation } from 'react-i18next';

export const focusRing =
  'focus:outline focus:outline-4 focus:outline-black focus:outline-offset-[calc(2/16*1rem)] focus:ring-[calc(2/16*1rem)] focus:ring-yellow-300';

export const inputClass =
  'w-full min-h-14 rounded-8 border border-solid-gray-600 bg-white px-4 py-3 text-oln-16N-100 text-solid-gray-800 ' +
  'hover:border-black aria-[invalid=true]:border-error-1 ' +
  focusRing;

export function Label({ htmlFor, children, required }: { htmlFor: string; children: ReactNode; required?: boolean }) {
  const { t } = useTranslation();
  return (
    <label htmlFor={htmlFor} className="flex flex-wrap items-center gap-x-2 text-std-17B-170 text-solid-gray-900">
      {children}
      {required && <span className="text-oln-16N-100 text-error-2">{t('form.required')}</span>}
    </label>
  );
}

export function SupportText({ id, children }: { id: string; children: ReactNode }) {
  return (
    <div id={id} className="text-std-16N-170 text-solid-gray-700">
      {children}
    </div>
  );
}

export function ErrorText({ id, children }: { id?: string; children: ReactNode }) {
  return (
    <p id={id} className="text-std-16N-170 text-error-2">
      ＊{children}
    </p>
  );
}

/** Ids and aria attributes for one field with optional support and error text. */
export function useFieldIds(hint: ReactNode | undefined, error: ReactNode | undefined, extra?: string) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [hint ? hintId : null, extra ?? null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  return { id, hintId, errorId, describedBy, invalid: error ? true : undefined };
}

type FieldFrameProps = {
  label: ReactNode;
  required?: boolean | undefined;
  hint?: ReactNode | undefined;
  error?: ReactNode | undefined;
  ids: ReturnType<typeof useFieldIds>;
  children: ReactNode;
  after?: ReactNode;
};

function FieldFrame({ label, required, hint, error, ids, children, after }: FieldFrameProps) {
  return (
    <div className="flex flex-col gap-2">
      <Label htmlFor={ids.id} required={required ?? false}>
        {label}
      </Label>
      {hint && <SupportText id={ids.hintId}>{hint}</SupportText>}
      {children}
      {error && <ErrorText id={ids.errorId}>{error}</ErrorText>}
      {after}
    </div>
  );
}

export type TextFieldProps = Omit<ComponentProps<'input'>, 'id'> & {
  label: ReactNode;
  hint?: ReactNode | undefined;
  error?: ReactNode | undefined;
  inputRef?: Ref<HTMLInputElement>;
};

export function TextField({ label, hint, error, required, inputRef, className, ...rest }: TextFieldProps) {
  const ids = useFieldIds(hint, error);
  return (
    <FieldFrame label={label} required={required} hint={hint} error={error} ids={ids}>
      <input
        ref={inputRef}
        id={ids.id}
        aria-describedby={ids.describedBy}
        aria-invalid={ids.invalid}
        aria-required={required || undefined}
        className={`${inputClass} read-only:border-dashed ${className ?? ''}`}
        {...rest}
      />
    </FieldFrame>
  );
}

export type TextareaFieldProps = Omit<ComponentProps<'textarea'>, 'id'> & {
  label: ReactNode;
  hint?: ReactNode | undefined;
  error?: ReactNode | undefined;
};

export function TextareaField({ label, hint, error, required, className, ...rest }: TextareaFieldProps) {
  const ids = useFieldIds(hint, error);
  return (
    <FieldFrame label={label} required={required} hint={hint} error={error} ids={ids}>
      <textarea
        id={ids.id}
        aria-describedby={ids.describedBy}
        aria-invalid={ids.invalid}
        aria-required={required || undefined}
        className={`${inputClass} text-std-16N-170 ${className ?? ''}`}
        {...rest}
      />
    </FieldFrame>
  );
}

export type SelectFieldProps = Omit<ComponentProps<'select'>, 'id'> & {
  label: ReactNode;
  hint?: ReactNode | undefined;
  error?: ReactNode | undefined;
  options: ReadonlyArray<{ value: string; label: string }>;
};

export function SelectField({ label, hint, error, required, options, className, ...rest }: SelectFieldProps) {
  const ids = useFieldIds(hint, error);
  return (
    <FieldFrame label={label} required={required} hint={hint} error={error} ids={ids}>
      <span className="relative block w-full">
        <select
          id={ids.id}
          aria-describedby={ids.describedBy}
          aria-invalid={ids.invalid}
          aria-required={required || undefined}
          className={`${inputClass} appearance-none pr-12 ${className ?? ''}`}
          {...rest}
        >
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
        <svg
          aria-hidden="true"
          focusable="false"
          viewBox="0 0 16 16"
          className="pointer-events-none absolute right-4 top-1/2 size-4 -translate-y-1/2 text-solid-gray-900"
        >
          <path d="M8 11.5 2.5 6l1-1L8 9.5 12.5 5l1 1z" fill="currentColor" />
        </svg>
      </span>
    </FieldFrame>
  );
}

export type CheckboxProps = Omit<ComponentProps<'input'>, 'type' | 'id'> & {
  children: ReactNode;
  hint?: ReactNode | undefined;
  error?: ReactNode | undefined;
};

/** A checkbox with its label to the right; the whole row is a 44 px target. */
export function Checkbox({ children, hint, error, className, ...rest }: CheckboxProps) {
  const ids = useFieldIds(hint, error);
  return (
    <div className={`flex flex-col gap-1 ${className ?? ''}`}>
      <label htmlFor={ids.id} className="flex min-h-11 w-fit cursor-pointer items-start gap-3 py-2">
        <input
          id={ids.id}
          type="checkbox"
          aria-describedby={ids.describedBy}
          aria-invalid={ids.invalid}
          className={`mt-0.5 size-6 shrink-0 accent-blue-900 ${focusRing}`}
          {...rest}
        />
        <span className="text-std-16N-170 text-solid-gray-800">{children}</span>
      </label>
      {hint && <SupportText id={ids.hintId}>{hint}</SupportText>}
      {error && <ErrorText id={ids.errorId}>{error}</ErrorText>}
    </div>
  );
}

/**
 * A fieldset with a visible legend (a policy section, one IP rule). The frame, when wanted, is drawn
 * by a wrapper so the legend sits above the fields as a heading instead of in the border line.
 */
export function Fieldset({
  legend,
  children,
  className,
  size = 'section',
  'data-testid': testId,
}: {
  legend: ReactNode;
  children: ReactNode;
  className?: string;
  size?: 'section' | 'group';
  'data-testid'?: string;
}) {
  return (
    <div className={className} data-testid={testId}>
      <fieldset className="flex min-w-0 flex-col gap-6">
        <legend className={`mb-4 text-solid-gray-900 ${size === 'section' ? 'text-std-24B-150' : 'text-std-20B-150'}`}>
          {legend}
        </legend>
        {children}
      </fieldset>
    </div>
  );
}

/**
 * Radio buttons for one choice, in a fieldset whose legend names the question; each option may carry
 * a line of explanation. The whole row is a 44 px target.
 */
export function RadioGroup<T extends string>({
  legend,
  name,
  value,
  options,
  onChange,
  hint,
  'data-testid': testId,
}: {
  legend: ReactNode;
  name: string;
  value: T;
  options: ReadonlyArray<{ value: T; label: string; hint?: string }>;
  onChange: (value: T) => void;
  hint?: ReactNode;
  'data-testid'?: string;
}) {
  const hintId = useId();
  return (
    <fieldset className="flex flex-col gap-1" aria-describedby={hint ? hintId : undefined} data-testid={testId}>
      <legend className="mb-1 text-std-17B-170 text-solid-gray-900">{legend}</legend>
      {hint && <SupportText id={hintId}>{hint}</SupportText>}
      {options.map((o) => (
        <label key={o.value} className="flex min-h-11 w-fit cursor-pointer items-start gap-3 py-2">
          <input
            type="radio"
            name={name}
            value={o.value}
            checked={value === o.value}
            onChange={() => onChange(o.value)}
            className={`mt-0.5 size-6 shrink-0 accent-blue-900 ${focusRing}`}
          />
          <span className="flex flex-col">
            <span className="text-std-16N-170 text-solid-gray-800">{o.label}</span>
            {o.hint && <span className="text-std-16N-170 text-solid-gray-700">{o.hint}</span>}
          </span>
        </label>
      ))}
    </fieldset>
  );
}

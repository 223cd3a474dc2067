/**
 * Button after the DADS button pattern: solid-fill for the main action, outline for secondary
 * ones; black outline over a yellow ring on keyboard focus; at least 44 px high (WCAG 2.5.5).
 * Busy buttons use aria-disabled rather than disabled so they keep keyboard focus.
 */
import type { ComponentProps } from 'react';

export type ButtonVariant = 'solid-fill' | 'outline';
export type ButtonSize = 'lg' | 'md';

const base =
  'inline-flex items-center justify-center gap-2 underline-offset-[calc(3/16*1rem)] ' +
  'focus-visible:outline-4 focus-visible:outline-black focus-visible:outline-offset-[calc(2/16*1rem)] ' +
  'focus-visible:ring-[calc(2/16*1rem)] focus-visible:ring-yellow-300 aria-disabled:cursor-not-allowed';

const variants: Record<ButtonVariant, string> = {
  'solid-fill':
    'border-4 border-double border-transparent bg-blue-900 text-white hover:bg-blue-1000 hover:underline ' +
    'active:bg-blue-1200 aria-disabled:bg-solid-gray-300 aria-disabled:text-solid-gray-50 aria-disabled:no-underline',
  outline:
    'border border-current bg-white text-blue-900 hover:bg-blue-200 hover:text-blue-1000 hover:underline ' +
    'active:bg-blue-300 active:text-blue-1200 aria-disabled:bg-white aria-disabled:text-solid-gray-420 aria-disabled:no-underline',
};

const sizes: Record<ButtonSize, string> = {
  lg: 'min-h-14 min-w-[calc(136/16*1rem)] rounded-8 px-4 py-3 text-oln-16B-100',
  md: 'min-h-12 min-w-24 rounded-8 px-4 py-2 text-oln-16B-100',
};

export type ButtonProps = Omit<ComponentProps<'button'>, 'disabled'> & {
  variant: ButtonVariant;
  size: ButtonSize;
  /** Announced as unavailable and ignores clicks, but stays focusable. */
  busy?: boolean;
};

export function Button({ variant, size, busy = false, className, onClick, type = 'button', ...rest }: ButtonProps) {
  return (
    <button
      type={type}
      className={`${base} ${variants[variant]} ${sizes[size]} ${className ?? ''}`}
      aria-disabled={busy || undefined}
      onClick={busy ? (event) => event.preventDefault() : onClick}
      {...rest}
    />
  );
}

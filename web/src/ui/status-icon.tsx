/** The DADS notification icons (success, warning, error), drawn in the current text colour. */
export type StatusTone = 'success' | 'warning' | 'error';

interface StatusIconProps {
  tone: StatusTone;
  className?: string;
  /** Accessible name; omit when adjacent text already says the same (the icon is then hidden). */
  label?: string;
}

export function StatusIcon({ tone, className, label }: StatusIconProps) {
  const a11y = label ? { role: 'img', 'aria-label': label } : { 'aria-hidden': true as const };
  return (
    <svg viewBox="0 0 36 36" width="36" height="36" fill="none" focusable="false" className={className} {...a11y}>
      {tone === 'success' && (
        <>
          <circle cx="18" cy="18" r="18" fill="Canvas" />
          <path
            d="M18 0C8.064 0 0 8.064 0 18C0 27.936 8.064 36 18 36C27.936 36 36 27.936 36 18C36 8.064 27.936 0 18 0ZM14.4 27L5.4 18L7.938 15.462L14.4 21.906L28.062 8.244L30.6 10.8L14.4 27Z"
            fill="currentColor"
          />
        </>
      )}
      {tone === 'warning' && (
        <>
          <path d="M18 3.001L36 34.091H0L18 3.001Z" fill="Canvas" />
          <path
            d="M0 34.0909H36L18 3L0 34.0909ZM19.6364 29.1818H16.3636V25.9091H19.6364V29.1818ZM19.6364 22.6364H16.3636V16.0909H19.6364V22.6364Z"
            fill="currentColor"
          />
        </>
      )}
      {tone === 'error' && (
        <>
          <path
            d="M24.2525 33H11.7475L3 24.2525V11.7475L11.7475 3H24.2525L33 11.7475V24.2525L24.2525 33Z"
            fill="currentColor"
            stroke="currentColor"
            strokeWidth="2"
          />
          <rect width="2" height="18.5341" transform="matrix(0.7071 -0.707113 0.7071 0.707113 11 12.4142)" fill="Canvas" />
          <rect width="2" height="18.5341" transform="matrix(-0.7071 -0.707113 0.7071 -0.707113 12.4141 25.52)" fill="Canvas" />
        </>
      )}
    </svg>
  );
}

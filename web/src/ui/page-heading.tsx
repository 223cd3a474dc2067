/**
 * The page's h1. It takes focus when the page was reached inside the app (a route change) or when a
 * multi-step flow moves on (`focusOnMount`), so screen reader and keyboard users start at the new
 * content instead of wherever the previous control was (WCAG 2.4.3).
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { wasNavigatedInApp } from '../app/router';

export function PageHeading({ children, focusOnMount }: { children: ReactNode; focusOnMount?: boolean }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focusOnMount || wasNavigatedInApp()) ref.current?.focus();
  }, [focusOnMount]);
  return (
    <h1 ref={ref} tabIndex={-1} className="text-std-32B-150 text-solid-gray-900 focus:outline-none sm:text-std-36B-140">
      {children}
    </h1>
  );
}

/** A section heading (h2) in the DADS type scale. */
export function SectionHeading({ children, id }: { children: ReactNode; id?: string }) {
  return (
    <h2 id={id} className="text-std-24B-150 text-solid-gray-900">
      {children}
    </h2>
  );
}

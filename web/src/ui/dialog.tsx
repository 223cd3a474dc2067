/**
 * Modal dialog after the DADS modal dialog pattern, built on the native <dialog> element
 * (showModal): the browser makes the rest of the page inert, keeps focus inside and closes on
 * Escape. The heading takes focus when the dialog opens, or `initialFocus` (the field to fill in);
 * focus returns to the control that opened it when it closes.
 */
import { useEffect, useId, useRef, type ReactNode, type RefObject } from 'react';

interface DialogProps {
  open: boolean;
  title: ReactNode;
  /** Escape, or a close button inside: the dialog is dismissed without acting. */
  onCancel: () => void;
  children: ReactNode;
  /** The element to focus on open; the heading when absent. */
  initialFocus?: RefObject<HTMLElement | null>;
  'data-testid'?: string;
}

export function Dialog({ open, title, onCancel, children, initialFocus, ...data }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const opener = useRef<Element | null>(null);
  const titleId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
      (initialFocus?.current ?? headingRef.current)?.focus();
    } else if (!open && dialog.open) {
      dialog.close();
      if (opener.current instanceof HTMLElement && opener.current.isConnected) opener.current.focus();
    }
  }, [open, initialFocus]);

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
      className="m-auto w-[min(40rem,calc(100vw-2rem))] max-w-none rounded-8 border border-black bg-white p-0 text-std-16N-170 text-solid-gray-800 shadow-3 backdrop:bg-opacity-gray-600"
      {...data}
    >
      {open && (
        <div className="flex flex-col gap-6 p-6">
          <h2
            id={titleId}
            ref={headingRef}
            tabIndex={-1}
            className="text-std-24B-150 text-solid-gray-900 focus-visible:outline-none"
          >
            {title}
          </h2>
          {children}
        </div>
      )}
    </dialog>
  );
}

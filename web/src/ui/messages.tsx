/**
 * Outcome messages of an action: an error banner (role="alert", takes focus so keyboard and screen
 * reader users land on it) whose text comes from the error code through i18n, and a success banner
 * (role="status").
 */
import { useEffect, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessageKey } from '../i18n/error-message';
import { NotificationBanner } from './notification-banner';

interface ErrorBannerProps {
  title: ReactNode;
  /** An error code; its translation is the first line. */
  code?: string | undefined;
  children?: ReactNode;
  /** Move focus to the banner when it appears (after a form submission). */
  focus?: boolean;
  'data-testid'?: string;
}

export function ErrorBanner({ title, code, children, focus = true, ...data }: ErrorBannerProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (focus) ref.current?.focus();
  }, [focus, code]);
  return (
    <div ref={ref} role="alert" tabIndex={-1} className="rounded-12 focus:outline-none focus-visible:outline-4">
      <NotificationBanner
        tone="error"
        iconLabel={t('icon.error')}
        title={title}
        data-testid={data['data-testid'] ?? 'error-banner'}
        data-state={code}
      >
        {code && <p>{t(errorMessageKey(code))}</p>}
        {children}
      </NotificationBanner>
    </div>
  );
}

export function SuccessBanner({ title, children, ...data }: { title: ReactNode; children?: ReactNode; 'data-testid'?: string }) {
  const { t } = useTranslation();
  return (
    <div role="status">
      <NotificationBanner
        tone="success"
        iconLabel={t('icon.success')}
        title={title}
        data-testid={data['data-testid'] ?? 'success-banner'}
      >
        {children}
      </NotificationBanner>
    </div>
  );
}

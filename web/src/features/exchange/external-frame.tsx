/**
 * The frame of the pages outside parties open from a link (`/x/r/…`, `/x/s/…`): no staff menu, no
 * sign-in; the service name, the organisation that sent the link once it is known, the language
 * switch, and a skip link. These pages are served on the internet zone.
 */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { KuraMark } from '../../app/kura-mark';
import { LanguageSwitch } from '../../app/language-switch';
import { useDocumentTitle } from '../../app/use-document-title';
import { Button } from '../../ui/button';
import { ErrorBanner } from '../../ui/messages';
import { PageHeading } from '../../ui/page-heading';

const MAIN_ID = 'main';

export function ExternalFrame({ organization, children }: { organization?: string | null; children: ReactNode }) {
  const { t } = useTranslation();
  return (
    <div className="flex min-h-screen flex-col" data-testid="external-frame">
      <a
        href={`#${MAIN_ID}`}
        className="sr-only bg-yellow-300 px-4 py-3 text-std-16B-170 text-black underline focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus-visible:outline-4 focus-visible:outline-black"
      >
        {t('app.skipToMain')}
      </a>
      <header className="border-b border-solid-gray-420 bg-white">
        <div className="mx-auto flex max-w-4xl flex-wrap items-center justify-between gap-x-6 gap-y-3 px-4 py-3 sm:px-6">
          <div className="flex items-center gap-3 text-solid-gray-900">
            <KuraMark className="size-10 shrink-0 text-blue-900" />
            <p className="flex flex-col">
              <span className="text-std-20B-150" data-testid="external-organization">
                {organization || t('app.serviceName')}
              </span>
              <span className="text-dns-14N-130 text-solid-gray-700">
                {organization
                  ? t('exchange.ext.frameTagline', { service: t('app.serviceName') })
                  : t('exchange.ext.frameTaglineGeneric')}
              </span>
            </p>
          </div>
          <LanguageSwitch />
        </div>
      </header>
      <main id={MAIN_ID} tabIndex={-1} className="mx-auto w-full max-w-4xl flex-1 px-4 py-8 focus:outline-none sm:px-6 sm:py-12">
        {children}
      </main>
      <footer className="border-t border-solid-gray-420 bg-solid-gray-50">
        <div className="mx-auto flex max-w-4xl flex-col gap-2 px-4 py-6 text-dns-14N-130 text-solid-gray-800 sm:px-6">
          <p className="text-dns-16B-130 text-solid-gray-900">{t('app.serviceName')}</p>
          <p>{t('exchange.ext.footerNote')}</p>
        </div>
      </footer>
    </div>
  );
}

/**
 * The one answer for every link that cannot be used: expired, revoked, deleted, over its limit or
 * never issued all look the same (no oracle, docs/exchange.md).
 */
export function InvalidLink() {
  const { t } = useTranslation();
  useDocumentTitle(t('exchange.ext.invalidTitle'));
  return (
    <div className="flex flex-col gap-4" data-testid="link-invalid">
      <PageHeading>{t('exchange.ext.invalidTitle')}</PageHeading>
      <p className="text-std-16N-170">{t('exchange.ext.invalidBody')}</p>
    </div>
  );
}

/** A load that failed for another reason than a dead link (network, outage), with a retry. */
export function LoadFailed({ code, onRetry }: { code: string; onRetry: () => void }) {
  const { t } = useTranslation();
  useDocumentTitle(t('app.loadErrorTitle'));
  return (
    <div className="flex flex-col gap-6">
      <ErrorBanner title={t('app.loadErrorTitle')} code={code} focus={false} />
      <div>
        <Button variant="outline" size="md" onClick={onRetry}>
          {t('app.retry')}
        </Button>
      </div>
    </div>
  );
}

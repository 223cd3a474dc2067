/** Page frame shared by every page: skip link, header (service name, language), main, footer. */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { linkClass } from '../ui/link';
import { LanguageSwitch } from './language-switch';
import { KuraMark } from './kura-mark';

export const MAIN_ID = 'main';

export function AppFrame({ children }: { children: ReactNode }) {
  const { t } = useTranslation();
  return (
    <div className="flex min-h-screen flex-col">
      <a
        href={`#${MAIN_ID}`}
        className="sr-only bg-yellow-300 px-4 py-3 text-std-16B-170 text-black underline focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus-visible:outline-4 focus-visible:outline-black"
      >
        {t('app.skipToMain')}
      </a>
      <header className="border-b border-solid-gray-420 bg-white">
        <div className="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-x-6 gap-y-3 px-4 py-3 sm:px-6">
          <a
            href="/"
            className="flex items-center gap-3 rounded-4 text-solid-gray-900 no-underline focus-visible:bg-yellow-300 focus-visible:outline-4 focus-visible:outline-black focus-visible:outline-offset-[calc(2/16*1rem)]"
          >
            <KuraMark className="size-10 shrink-0 text-blue-900" />
            <span className="flex flex-col">
              <span className="text-std-20B-150">{t('app.serviceName')}</span>
              <span className="text-dns-14N-130 text-solid-gray-700">{t('app.serviceTagline')}</span>
            </span>
          </a>
          <LanguageSwitch />
        </div>
      </header>
      <main id={MAIN_ID} tabIndex={-1} className="mx-auto w-full max-w-5xl flex-1 px-4 py-8 focus:outline-none sm:px-6 sm:py-12">
        {children}
      </main>
      <footer className="border-t border-solid-gray-420 bg-solid-gray-50">
        <div className="mx-auto flex max-w-5xl flex-col gap-2 px-4 py-6 text-dns-14N-130 text-solid-gray-800 sm:px-6">
          <p className="text-dns-16B-130 text-solid-gray-900">{t('app.serviceName')}</p>
          <p>{t('app.footerNote')}</p>
          <p>
            <a href="/status" className={linkClass}>
              {t('status.title')}
            </a>
          </p>
        </div>
      </footer>
    </div>
  );
}

import { useTranslation } from 'react-i18next';
import { linkClass } from '../ui/link';
import { useDocumentTitle } from './use-document-title';

export function NotFoundPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('app.notFound.title'));
  return (
    <div className="flex flex-col gap-4">
      <h1 className="text-std-32B-150 text-solid-gray-900">{t('app.notFound.title')}</h1>
      <p className="text-std-16N-170">{t('app.notFound.body')}</p>
      <p className="text-std-16N-170">
        <a href="/status" className={linkClass}>
          {t('app.notFound.backToStatus')}
        </a>
      </p>
    </div>
  );
}

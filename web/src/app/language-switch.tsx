/** Two-button language switch (日本語 / English); the pressed button is the current language. */
import { useTranslation } from 'react-i18next';
import { changeLanguage, currentLanguage, LANGUAGES } from '../i18n/i18n';

export function LanguageSwitch() {
  const { t } = useTranslation();
  const current = currentLanguage();
  return (
    <div role="group" aria-label={t('app.language.label')} data-testid="lang-switch" className="flex">
      {LANGUAGES.map((language, index) => {
        const pressed = language === current;
        return (
          <button
            key={language}
            type="button"
            lang={language}
            aria-pressed={pressed}
            onClick={() => void changeLanguage(language)}
            className={`min-h-11 min-w-20 border border-blue-900 px-3 text-oln-16B-100 underline-offset-[calc(3/16*1rem)] focus-visible:relative focus-visible:z-10 focus-visible:outline-4 focus-visible:outline-black focus-visible:outline-offset-[calc(2/16*1rem)] focus-visible:ring-[calc(2/16*1rem)] focus-visible:ring-yellow-300 ${
              index === 0 ? 'rounded-l-8' : '-ml-px rounded-r-8'
            } ${pressed ? 'bg-blue-900 text-white' : 'bg-white text-blue-900 hover:bg-blue-200 hover:text-blue-1000 hover:underline'}`}
          >
            {t(`app.language.${language}`)}
          </button>
        );
      })}
    </div>
  );
}

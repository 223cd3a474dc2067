import type { Language } from './i18n';

const LOCALES: Record<Language, string> = { ja: 'ja-JP', en: 'en-GB' };

/**
 * Date and time in Japan time whatever the browser's zone: staff, operators and the status page
 * all talk about 日本時間, and an LGWAN terminal's clock zone is not something we can rely on.
 */
export function formatDateTime(date: Date, language: Language): string {
  return new Intl.DateTimeFormat(LOCALES[language], {
    timeZone: 'Asia/Tokyo',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(date);
}

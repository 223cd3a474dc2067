/** Sizes, rates and durations as staff read them (KB/MB/GB in binary steps, as Windows Explorer shows them). */
import type { Language } from '../../i18n/i18n';

const LOCALES: Record<Language, string> = { ja: 'ja-JP', en: 'en-GB' };
const UNITS = ['KB', 'MB', 'GB', 'TB'] as const;

/** `512 B`, `12 KB`, `3.0 MB`, `1.2 GB`: one decimal below 10 of a unit, none above. */
export function formatBytes(bytes: number, language: Language): string {
  const nf = (digits: number) =>
    new Intl.NumberFormat(LOCALES[language], { minimumFractionDigits: digits, maximumFractionDigits: digits });
  if (bytes < 1024) return `${nf(0).format(bytes)} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${nf(value < 10 ? 1 : 0).format(value)} ${UNITS[unit]}`;
}

/** Whole seconds as `1:05` or `1:02:05`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** A compact date and time in Japan time for table cells: `2026/11/26 09:05` (ja) or `26/11/2026, 09:05` (en). */
export function formatDateTimeShort(date: Date, language: Language): string {
  return new Intl.DateTimeFormat(LOCALES[language], {
    timeZone: 'Asia/Tokyo',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(date);
}

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

/** Japan has had no daylight saving time since 1951: Japan time is always UTC+9. */
const JAPAN_OFFSET_MS = 9 * 60 * 60 * 1000;

/** The value of a `datetime-local` input showing `date` in Japan time, to the minute: `2026-05-01T09:30`. */
export function japanInputValue(date: Date): string {
  return new Date(date.getTime() + JAPAN_OFFSET_MS).toISOString().slice(0, 16);
}

/**
 * A `datetime-local` value (`2026-05-01T09:30` or with seconds) read as Japan time, whatever the
 * browser's zone, as ISO 8601 with its offset: `2026-05-01T09:30:00+09:00`. Null when it is not a
 * real date and time.
 */
export function japanInputToIso(value: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '00'] = m;
  const iso = `${y}-${mo}-${d}T${h}:${mi}:${s}+09:00`;
  const time = Date.parse(iso);
  // Date.parse rolls 2月30日 over to 3月2日; a real date comes back to the same fields.
  if (Number.isNaN(time) || japanInputValue(new Date(time)) !== `${y}-${mo}-${d}T${h}:${mi}`) return null;
  return iso;
}

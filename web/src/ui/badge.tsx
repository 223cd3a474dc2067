/**
 * A status label for table cells (承認待ち, 有効, ロック中, …). The words carry the meaning; the
 * colour of the frame only repeats it, and the text stays dark for contrast.
 */
import type { ReactNode } from 'react';

export type BadgeTone = 'success' | 'warning' | 'error' | 'neutral' | 'info';

const tones: Record<BadgeTone, string> = {
  success: 'border-green-800 bg-green-50',
  warning: 'border-yellow-700 bg-yellow-50',
  error: 'border-red-800 bg-red-50',
  neutral: 'border-solid-gray-600 bg-solid-gray-50',
  info: 'border-blue-800 bg-blue-50',
};

export function Badge({
  tone,
  children,
  'data-testid': testId,
}: {
  tone: BadgeTone;
  children: ReactNode;
  'data-testid'?: string;
}) {
  return (
    <span
      className={`inline-flex items-center rounded-4 border px-2 py-0.5 text-dns-14B-130 whitespace-nowrap text-solid-gray-900 ${tones[tone]}`}
      data-testid={testId}
    >
      {children}
    </span>
  );
}

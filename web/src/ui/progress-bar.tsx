/**
 * A linear progress bar after the DADS progress indicator: a grey track with a blue fill and the
 * value also in words next to it (colour is never the only carrier). role="progressbar" with
 * aria-valuenow, so assistive technology can read the percentage; `valueText` adds the detail.
 */
export function ProgressBar({
  value,
  label,
  valueText,
  tone = 'progress',
  'data-testid': testId,
}: {
  /** 0–100. */
  value: number;
  /** Accessible name ("「報告書.pdf」のアップロードの進み具合"). */
  label: string;
  valueText?: string;
  tone?: 'progress' | 'success' | 'error';
  'data-testid'?: string;
}) {
  const pct = Math.max(0, Math.min(100, Math.round(value)));
  const fill = { progress: 'bg-blue-900', success: 'bg-green-800', error: 'bg-red-800' }[tone];
  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={pct}
      aria-valuetext={valueText}
      data-testid={testId}
      className="h-3 w-full overflow-hidden rounded-full border border-solid-gray-600 bg-solid-gray-100"
    >
      <div className={`h-full ${fill} transition-[width] duration-200`} style={{ width: `${pct}%` }} />
    </div>
  );
}

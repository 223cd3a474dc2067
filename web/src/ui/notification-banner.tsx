/** Notification banner after the DADS "standard" style: a 3 px coloured frame, icon, heading, body. */
import type { ReactNode } from 'react';
import { StatusIcon, type StatusTone } from './status-icon';

const toneClasses: Record<StatusTone, string> = {
  success: 'text-success-2',
  warning: 'text-warning-yellow-2',
  error: 'text-error-1',
};

interface NotificationBannerProps {
  tone: StatusTone;
  /** Accessible name of the icon ("正常", "エラー", …) so the tone is not conveyed by colour alone. */
  iconLabel: string;
  title: ReactNode;
  headingLevel?: 'h2' | 'h3';
  children?: ReactNode;
  className?: string;
  'data-testid'?: string;
  'data-state'?: string;
}

export function NotificationBanner({
  tone,
  iconLabel,
  title,
  headingLevel: Heading = 'h2',
  children,
  className,
  ...data
}: NotificationBannerProps) {
  return (
    <div
      className={`grid grid-cols-[calc(24/16*1rem)_1fr] gap-x-3 gap-y-2 rounded-12 border-[3px] border-current bg-white p-4 sm:grid-cols-[calc(36/16*1rem)_1fr] sm:gap-x-6 sm:p-6 ${toneClasses[tone]} ${className ?? ''}`}
      {...data}
    >
      <StatusIcon tone={tone} label={iconLabel} className="mt-1 h-auto w-full sm:mt-0" />
      <Heading className="text-std-17B-170 text-solid-gray-900 sm:text-std-20B-150 sm:pt-1">{title}</Heading>
      {children && <div className="col-span-2 text-std-16N-170 text-solid-gray-800 sm:col-start-2 sm:col-span-1">{children}</div>}
    </div>
  );
}

/**
 * Small pieces shared by the exchange pages: state badges in words, the shortened SHA-256 with the
 * full value one click away, type category names, the approval reasons in words, and the limits
 * read from the session.
 */
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { Badge, type BadgeTone } from '../../ui/badge';
import type { Me } from '../identity/identity.api';
import { FALLBACK_MAX_EXPIRY_DAYS, isTypeCategory, type InboxItem, type RequestState, type ShareState } from './exchange.api';

/** A simple e-mail check (the server validates again): something@domain.tld, no spaces. */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The day count choices start here when the tenant allows it. */
export const DEFAULT_EXPIRY_DAYS = 7;

/**
 * The tenant's longest link validity (features.maxLinkExpiryDays) when the session carries it;
 * otherwise null, and the server's `exchange.expiry_too_long` says so on submit.
 */
export function maxLinkExpiryDays(me: Me): number | null {
  const features = me.features as Record<string, unknown> | undefined;
  const value = features?.maxLinkExpiryDays ?? (me as unknown as Record<string, unknown>).maxLinkExpiryDays;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

export function expiryLimit(me: Me): number {
  return maxLinkExpiryDays(me) ?? FALLBACK_MAX_EXPIRY_DAYS;
}

/** A type category's name as the policy page shows it; unknown values as they are. */
export function typeLabel(t: TFunction, category: string): string {
  return isTypeCategory(category) ? t(`admin.policy.malware.types.${category}`) : category;
}

/** The separator of lists in the current language (「、」 or ", "). */
export function listOf(t: TFunction, values: readonly string[]): string {
  return values.join(t('exchange.listSeparator'));
}

/** Why a share needs 上長承認: `policy`, `label:<label>`, `size`, `domain:<domain>`, `pii`, `pii_unreadable`. */
export function approvalReasonText(t: TFunction, reason: string): string {
  if (reason === 'policy') return t('exchange.approvalReasons.policy');
  if (reason === 'size') return t('exchange.approvalReasons.size');
  if (reason === 'pii') return t('exchange.approvalReasons.pii');
  if (reason === 'pii_unreadable') return t('exchange.approvalReasons.piiUnreadable');
  if (reason.startsWith('label:')) return t('exchange.approvalReasons.label', { label: reason.slice(6) });
  if (reason.startsWith('domain:')) return t('exchange.approvalReasons.domain', { domain: reason.slice(7) });
  return reason;
}

const requestTone: Record<RequestState, BadgeTone> = {
  open: 'success',
  expired: 'neutral',
  closed: 'neutral',
  revoked: 'neutral',
  deleted: 'neutral',
};

export function RequestStateBadge({ state }: { state: RequestState }) {
  const { t } = useTranslation();
  return (
    <Badge tone={requestTone[state] ?? 'neutral'} data-testid="request-state">
      {t(`exchange.requestStates.${state}`, { defaultValue: state })}
    </Badge>
  );
}

const shareTone: Record<ShareState, BadgeTone> = {
  pending: 'warning',
  active: 'success',
  rejected: 'error',
  expired: 'neutral',
  revoked: 'neutral',
  deleted: 'neutral',
};

export function ShareStateBadge({ state }: { state: ShareState }) {
  const { t } = useTranslation();
  return (
    <Badge tone={shareTone[state] ?? 'neutral'} data-testid="share-state">
      {t(`exchange.shareStates.${state}`, { defaultValue: state })}
    </Badge>
  );
}

/** What a received file is, in the words staff read on the 受信箱. */
export type InboxView = 'held' | 'sanitising' | 'available' | 'unsanitisable' | 'quarantined' | 'blocked' | 'damaged' | 'deleted';

const SANITISE_FAILED = new Set(['failed', 'blocked']);

/**
 * On LGWAN an internet-origin file is delivered only as its 無害化 version (MAL-08), so it is
 * 無害化中 until that exists and cannot be delivered when 無害化 failed.
 */
export function inboxView(item: InboxItem, zone: string): InboxView {
  if (item.state !== 'available') return item.state;
  if (zone === 'lgwan' && item.sanitizeState === 'pending') return 'sanitising';
  if (zone === 'lgwan' && item.sanitizeState !== null && SANITISE_FAILED.has(item.sanitizeState)) return 'unsanitisable';
  return 'available';
}

const inboxTone: Record<InboxView, BadgeTone> = {
  held: 'warning',
  sanitising: 'info',
  available: 'success',
  unsanitisable: 'error',
  quarantined: 'error',
  blocked: 'error',
  damaged: 'error',
  deleted: 'neutral',
};

export function InboxStateBadge({ view }: { view: InboxView }) {
  const { t } = useTranslation();
  return (
    <Badge tone={inboxTone[view]} data-testid="inbox-state">
      {t(`exchange.inboxStates.${view}`)}
    </Badge>
  );
}

/**
 * A SHA-256 shortened for tables (the first 12 and last 4 hex digits); the full value opens below
 * it, and is in the title for mouse users.
 */
export function ShortSha256({ value }: { value: string }) {
  const { t } = useTranslation();
  const short = value.length > 20 ? `${value.slice(0, 12)}…${value.slice(-4)}` : value;
  return (
    <details className="max-w-[16rem]" data-testid="sha256">
      <summary
        title={value}
        className="cursor-pointer whitespace-nowrap rounded-4 font-mono text-dns-14N-130 focus-visible:bg-yellow-300 focus-visible:outline-4 focus-visible:outline-black"
      >
        {short}
        <span className="sr-only">{t('exchange.sha256Full')}</span>
      </summary>
      <code className="mt-1 block font-mono text-dns-14N-130 break-all" data-testid="sha256-full">
        {value}
      </code>
    </details>
  );
}

/** The full SHA-256, wrapped (receipts, where the outside party compares it). */
export function FullSha256({ value }: { value: string }) {
  return (
    <code className="block max-w-[20rem] font-mono text-dns-14N-130 break-all" data-testid="sha256">
      {value}
    </code>
  );
}

/** Download link look, as on the file detail page. */
export const downloadLinkClass =
  'inline-flex min-h-11 items-center whitespace-nowrap rounded-8 border border-current bg-white px-3 text-oln-16B-100 text-blue-900 ' +
  'hover:bg-blue-200 hover:underline focus-visible:outline-4 focus-visible:outline-black ' +
  'focus-visible:outline-offset-[calc(2/16*1rem)] focus-visible:ring-[calc(2/16*1rem)] focus-visible:ring-yellow-300';

/** Definition-list look of the summaries (label column and value column from the small breakpoint). */
export const summaryListClass = 'grid grid-cols-1 gap-x-6 gap-y-1 text-std-16N-170 sm:grid-cols-[max-content_1fr] sm:gap-y-3';
export const summaryTermClass = 'font-bold text-solid-gray-900';
export const summaryValueClass = 'mb-3 break-words sm:mb-0';

/** Sizes in whole MB for the request form (MB = 1,048,576 bytes, as the size display uses). */
export const MB = 1024 * 1024;

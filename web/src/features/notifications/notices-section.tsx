/**
 * お知らせ on the home page: the in-app notices about the user's files (quarantined, blocked, held
 * for review, 無害化 results, released), about their requests (original approved, rejected) and
 * about the exchange (a file received, a send to approve, its decision, a download, a deletion ahead),
 * newest first, unread ones marked, each worded here from its kind and parameters (the server
 * sends no text). 「すべて既読にする」 marks every one read.
 */
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { errorCode } from '../../api/api-client';
import { routeLink } from '../../app/router';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { linkClass } from '../../ui/link';
import { ErrorBanner } from '../../ui/messages';
import { SectionHeading } from '../../ui/page-heading';
import { When } from '../files/file-bits';
import { currentLanguage } from '../../i18n/i18n';
import { formatDateTime } from '../../i18n/format';
import { holdReasonText } from '../malware/malware-bits';
import { fetchNotices, markNoticesRead, type Notice } from './notifications.api';

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** The sentence for one notice; a kind this UI does not know yet still shows that something happened. */
/** What the personal-data check found: マイナンバー, or the names of the tenant's patterns. */
function piiWhat(t: TFunction, kinds: unknown): string {
  const list = Array.isArray(kinds) ? kinds.map(str) : [];
  const names = list.filter((k) => k.startsWith('pattern:')).map((k) => k.slice('pattern:'.length));
  return [...(list.includes('my_number') || list.length === 0 ? [t('notices.kinds.piiMyNumber')] : []), ...names].join('、');
}

export function noticeText(t: TFunction, n: Notice): string {
  const p = n.params;
  const name = str(p.name);
  const version = t('fileDetail.versionN', { n: str(p.version) || '?' });
  const file = name ? t('malware.quarantine.fileVersion', { name, version }) : t('notices.unnamedFile', { version });
  switch (n.kind) {
    case 'file.quarantined':
      return p.rescan === true
        ? t('notices.kinds.quarantinedRescan', { file, signature: str(p.signature) || '—' })
        : t('notices.kinds.quarantined', { file, signature: str(p.signature) || '—' });
    case 'file.blocked':
    case 'file.held_for_review': {
      const reason = holdReasonText(t, {
        state: n.kind === 'file.blocked' ? 'blocked' : 'held',
        holdReason: str(p.reason) || null,
        signature: null,
      });
      return t(n.kind === 'file.blocked' ? 'notices.kinds.blocked' : 'notices.kinds.heldForReview', { file, reason });
    }
    case 'file.sanitise_failed':
      return t('notices.kinds.sanitiseFailed', { file });
    case 'file.sanitise_blocked':
      return t('notices.kinds.sanitiseBlocked', { file });
    case 'file.sanitise_sanitised_with_loss':
      return t('notices.kinds.sanitisedWithLoss', { file });
    case 'file.released':
      return t('notices.kinds.released', { file });
    case 'file.original_approved':
      return t('notices.kinds.originalApproved', { file });
    case 'approval.cancelled':
      return t('notices.kinds.releaseCancelled', { file });
    case 'approval.rejected': {
      const what = p.kind === 'release' ? t('notices.kinds.rejectedRelease') : t('notices.kinds.rejectedOriginal');
      const comment = str(p.comment).trim();
      return comment ? t('notices.kinds.rejectedWithComment', { what, comment }) : t('notices.kinds.rejected', { what });
    }
    case 'pii.suggested':
      // PII-02: the check found a My Number or a tenant pattern; the label it suggests comes with the notice.
      return t('notices.kinds.piiSuggested', {
        file: name || t('notices.unnamedFile', { version: '?' }),
        what: piiWhat(t, p.kinds),
        label: str(p.label) || '—',
      });
    // Exchange: what arrived, what awaits a decision, how a send ended, what will be deleted.
    case 'exchange.received':
      return t('notices.kinds.exchangeReceived', { name: name || '—', title: str(p.title) || '—' });
    case 'exchange.approval_requested':
      return t('notices.kinds.exchangeApprovalRequested', { sender: str(p.sender) || '—', purpose: str(p.purpose) || '—' });
    case 'exchange.share_decided': {
      const purpose = str(p.purpose) || '—';
      if (p.decision === 'approved') return t('notices.kinds.exchangeShareApproved', { purpose });
      const comment = str(p.comment).trim();
      return comment
        ? t('notices.kinds.exchangeShareRejectedWithComment', { purpose, comment })
        : t('notices.kinds.exchangeShareRejected', { purpose });
    }
    case 'exchange.downloaded':
      return t('notices.kinds.exchangeDownloaded', { name: name || '—', recipient: str(p.recipient) || '—' });
    case 'exchange.approval_expired':
      return t('notices.kinds.exchangeApprovalExpired', { purpose: str(p.purpose) || '—' });
    case 'exchange.deletion_soon': {
      const at = Date.parse(str(p.deleteAt));
      const date = Number.isNaN(at) ? '—' : formatDateTime(new Date(at), currentLanguage());
      return t(p.what === 'request' ? 'notices.kinds.exchangeRequestDeletionSoon' : 'notices.kinds.exchangeShareDeletionSoon', {
        title: str(p.title) || '—',
        date,
      });
    }
    default:
      return t('notices.kinds.other', { kind: n.kind });
  }
}

/** Where a notice leads: the file it is about, else the exchange page where the user acts on it. */
function noticeLink(n: Notice): { href: string; label: 'openFile' | 'openApprovals' | 'openSent' | 'openRequests' } | null {
  const fileId = str(n.params.fileId);
  if (fileId && /^[0-9a-f-]{36}$/i.test(fileId)) return { href: `/files/${fileId}`, label: 'openFile' };
  switch (n.kind) {
    case 'exchange.approval_requested':
      return { href: '/exchange/approvals', label: 'openApprovals' };
    case 'exchange.share_decided':
    case 'exchange.downloaded':
    case 'exchange.approval_expired':
      return { href: '/exchange/sent', label: 'openSent' };
    case 'exchange.deletion_soon':
      return n.params.what === 'request'
        ? { href: '/exchange/requests', label: 'openRequests' }
        : { href: '/exchange/sent', label: 'openSent' };
    default:
      return null;
  }
}

export function NoticesSection() {
  const { t } = useTranslation();
  const [notices, setNotices] = useState<{ items: Notice[]; unread: number } | null>(null);
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async (signal?: AbortSignal) => {
    try {
      setNotices(await fetchNotices(signal));
    } catch (err) {
      if (!signal?.aborted) setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    }
  }, []);

  useEffect(() => {
    const abort = new AbortController();
    void load(abort.signal);
    return () => abort.abort();
  }, [load]);

  async function readAll() {
    if (busy) return;
    setBusy(true);
    try {
      await markNoticesRead('all');
      setFailure(null);
      await load();
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="notices-title" className="flex flex-col gap-4" data-testid="notices">
      <SectionHeading id="notices-title">
        {t('notices.title')}
        {notices && notices.unread > 0 && (
          <span className="ml-3 align-middle" data-testid="notices-unread">
            <Badge tone="warning">{t('notices.unreadCount', { count: notices.unread })}</Badge>
          </span>
        )}
      </SectionHeading>
      {failure && <ErrorBanner key={failure.n} title={t('notices.errorTitle')} code={failure.code} focus={false} />}
      {notices === null && !failure && <p className="text-std-16N-170">{t('app.loading')}</p>}
      {notices?.items.length === 0 && (
        <p className="text-std-16N-170" data-testid="notices-none">
          {t('notices.none')}
        </p>
      )}
      {notices && notices.items.length > 0 && (
        <>
          <ul className="flex flex-col border-t border-solid-gray-420">
            {notices.items.map((n) => {
              const link = noticeLink(n);
              return (
                <li
                  key={n.id}
                  className="flex flex-col gap-1 border-b border-solid-gray-420 py-3"
                  data-testid="notice"
                  data-kind={n.kind}
                  data-read={n.readAt ? 'true' : 'false'}
                >
                  <p className="flex flex-wrap items-center gap-x-3 gap-y-1 text-dns-14N-130 text-solid-gray-700">
                    <When iso={n.createdAt} />
                    {!n.readAt && <Badge tone="warning">{t('notices.unread')}</Badge>}
                  </p>
                  <p className="text-std-16N-170 text-solid-gray-900 wrap-anywhere" data-testid="notice-text">
                    {noticeText(t, n)}
                  </p>
                  {link && (
                    <p className="text-std-16N-170">
                      <a className={linkClass} {...routeLink(link.href)}>
                        {t(`notices.${link.label}`)}
                        {str(n.params.name) && <span className="sr-only">（{str(n.params.name)}）</span>}
                      </a>
                    </p>
                  )}
                </li>
              );
            })}
          </ul>
          {notices.unread > 0 && (
            <div>
              <Button variant="outline" size="md" busy={busy} onClick={() => void readAll()} data-testid="notices-read-all">
                {t('notices.readAll')}
              </Button>
            </div>
          )}
        </>
      )}
    </section>
  );
}

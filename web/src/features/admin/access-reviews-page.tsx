/**
 * Access reviews (アクセス権の棚卸し, AC-04): tenant admins start a review (step-up), approve or
 * revoke each account (revoking suspends it, after a confirmation), and sign off with findings;
 * auditors read. The changes since the previous review are listed; CSV/XLSX exports need step-up.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { TFunction } from 'i18next';
import { useTranslation } from 'react-i18next';
import { downloadFile, errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { formatDateTime } from '../../i18n/format';
import { currentLanguage } from '../../i18n/i18n';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { ConfirmDialog, headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { TextareaField } from '../../ui/form';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { useMe } from '../identity/session';
import { StepUpCancelled, useStepUp } from '../identity/step-up';
import {
  decideItem,
  fetchReview,
  fetchReviews,
  signOffReview,
  startReview,
  type Decision,
  type Review,
  type ReviewItem,
  type ReviewSummary,
} from './admin.api';

type Failure = { code: string; n: number } | null;
const bump = (code: string) => (f: Failure) => ({ code, n: (f?.n ?? 0) + 1 });

function When({ iso }: { iso: string | null }) {
  const { t } = useTranslation();
  if (!iso) return <>{t('account.never')}</>;
  return <time dateTime={iso}>{formatDateTime(new Date(iso), currentLanguage())}</time>;
}

const decisionTone = { pending: 'warning', confirmed: 'success', revoked: 'error' } as const;

export function AccessReviewsPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('reviews.title'));
  const me = useMe();
  const canChange = me.user.role === 'tenant_admin';
  const { run, dialog } = useStepUp();
  const [reviews, setReviews] = useState<ReviewSummary[] | null>(null);
  const [current, setCurrent] = useState<Review | null>(null);
  const [failure, setFailure] = useState<Failure>(null);
  const [notice, setNotice] = useState<{ text: string; n: number } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<ReviewItem | null>(null);
  const [findings, setFindings] = useState('');
  const detailRef = useRef<HTMLHeadingElement>(null);

  const say = (text: string) => setNotice((n) => ({ text, n: (n?.n ?? 0) + 1 }));

  const load = useCallback(async () => {
    try {
      setReviews(await fetchReviews());
    } catch (err) {
      setFailure(bump(errorCode(err)));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const show = (review: Review) => {
    setCurrent(review);
    setFindings(review.findings ?? '');
    requestAnimationFrame(() => detailRef.current?.focus());
  };

  async function act(key: string, action: () => Promise<void>) {
    if (busy) return;
    setBusy(key);
    try {
      await action();
      setFailure(null);
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) setFailure(bump(errorCode(err)));
    } finally {
      setBusy(null);
    }
  }

  const start = () =>
    act('start', async () => {
      const review = await run(startReview);
      say(t('reviews.started'));
      show(review);
      await load();
    });

  const open = (id: string) =>
    act(`open-${id}`, async () => {
      show(await fetchReview(id));
    });

  const decide = (item: ReviewItem, decision: 'confirmed' | 'revoked') =>
    act(`${decision}-${item.userId}`, async () => {
      if (!current) return;
      await run(() => decideItem(current.id, item.userId, decision));
      setCurrent(await fetchReview(current.id));
      say(t(`reviews.decided.${decision}`, { name: item.displayName }));
    });

  const signOff = (event: FormEvent) => {
    event.preventDefault();
    void act('signoff', async () => {
      if (!current) return;
      const review = await run(() => signOffReview(current.id, findings));
      setCurrent(review);
      say(t('reviews.signedOff'));
      await load();
    });
  };

  const exportAs = (format: 'csv' | 'xlsx') =>
    act(`export-${format}`, async () => {
      if (!current) return;
      await run(() =>
        downloadFile(
          `/api/v1/admin/access-reviews/${current.id}/export?format=${format}`,
          `access-review-${current.id}.${format}`,
        ),
      );
    });

  const hasOpen = reviews?.some((r) => r.state === 'open') ?? false;
  const pending = current?.items.filter((i) => i.decision === 'pending').length ?? 0;

  return (
    <div className="flex flex-col gap-10">
      <div className="flex flex-col gap-4">
        <PageHeading>{t('reviews.title')}</PageHeading>
        <p className="text-std-16N-170">{t('reviews.lead')}</p>
        {!canChange && <p className="text-std-16N-170">{t('reviews.readOnly')}</p>}
      </div>
      {failure && <ErrorBanner key={failure.n} title={t('reviews.errorTitle')} code={failure.code} data-testid="reviews-error" />}
      {notice && <SuccessBanner key={notice.n} title={notice.text} data-testid="reviews-success" />}

      <section aria-labelledby="reviews-list" className="flex flex-col gap-4">
        <SectionHeading id="reviews-list">{t('reviews.listTitle')}</SectionHeading>
        {canChange && (
          <div className="flex flex-col gap-2">
            <div>
              <Button variant="solid-fill" size="md" busy={busy === 'start' || hasOpen} onClick={() => void start()}>
                {t('reviews.start')}
              </Button>
            </div>
            {hasOpen && <p className="text-std-16N-170 text-solid-gray-700">{t('reviews.openExists')}</p>}
          </div>
        )}
        {reviews === null && !failure && <p className="text-std-16N-170">{t('app.loading')}</p>}
        {reviews && reviews.length === 0 && <p className="text-std-16N-170">{t('reviews.none')}</p>}
        {reviews && reviews.length > 0 && (
          <div className="overflow-x-auto">
            <table className="w-full text-std-16N-170" data-testid="reviews-table">
              <caption className="sr-only">{t('reviews.listTitle')}</caption>
              <thead>
                <tr className={headRowClass}>
                  <th scope="col" className={thClass}>
                    {t('reviews.startedAt')}
                  </th>
                  <th scope="col" className={thClass}>
                    {t('reviews.dueAt')}
                  </th>
                  <th scope="col" className={thClass}>
                    {t('reviews.state')}
                  </th>
                  <th scope="col" className={thClass}>
                    {t('reviews.changes')}
                  </th>
                  <th scope="col" className={thClass}>
                    {t('account.actions')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {reviews.map((r) => (
                  <tr key={r.id} className={rowClass} data-testid="review-row" data-state={r.state}>
                    <th scope="row" className={`${thClass} font-normal`}>
                      <When iso={r.startedAt} />
                    </th>
                    <td className={tdClass}>
                      <When iso={r.dueAt} />
                    </td>
                    <td className={tdClass}>
                      <Badge tone={r.state === 'open' ? 'info' : 'success'}>{t(`reviews.states.${r.state}`)}</Badge>
                    </td>
                    <td className={tdClass}>
                      {t('reviews.changesSummary', {
                        added: r.diff.added.length,
                        removed: r.diff.removed.length,
                        changed: r.diff.changed.length,
                      })}
                    </td>
                    <td className={tdClass}>
                      <Button variant="outline" size="md" busy={busy === `open-${r.id}`} onClick={() => void open(r.id)}>
                        {t('reviews.open')}
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {current && (
        <section
          aria-labelledby="review-detail"
          className="flex flex-col gap-6"
          data-testid="review-detail"
          data-state={current.state}
        >
          <h2
            id="review-detail"
            ref={detailRef}
            tabIndex={-1}
            className="text-std-24B-150 text-solid-gray-900 focus:outline-none"
          >
            {t('reviews.detailTitle', { date: formatDateTime(new Date(current.startedAt), currentLanguage()) })}
          </h2>
          <p className="text-std-16N-170" data-testid="review-progress">
            {current.state === 'open'
              ? t('reviews.progress', { pending, total: current.items.length })
              : t('reviews.signedOffAt', {
                  date: formatDateTime(new Date(current.signedOffAt ?? current.startedAt), currentLanguage()),
                })}
          </p>

          <div className="flex flex-col gap-3" data-testid="review-diff">
            <h3 className="text-std-20B-150 text-solid-gray-900">{t('reviews.diffTitle')}</h3>
            <dl className="grid grid-cols-1 gap-x-6 gap-y-1 text-std-16N-170 sm:grid-cols-[max-content_1fr] sm:gap-y-3">
              <dt className="font-bold text-solid-gray-900">{t('reviews.added')}</dt>
              <dd data-testid="diff-added">{current.diff.added.join('、') || t('reviews.noChange')}</dd>
              <dt className="font-bold text-solid-gray-900">{t('reviews.removed')}</dt>
              <dd data-testid="diff-removed">{current.diff.removed.join('、') || t('reviews.noChange')}</dd>
              <dt className="font-bold text-solid-gray-900">{t('reviews.changed')}</dt>
              <dd data-testid="diff-changed">
                {current.diff.changed.length === 0
                  ? t('reviews.noChange')
                  : current.diff.changed.map((c) => `${c.loginId}（${c.from} → ${c.to}）`).join('、')}
              </dd>
            </dl>
          </div>

          <div className="overflow-x-auto">
            <table className="w-full text-std-16N-170" data-testid="review-items">
              <caption className="sr-only">{t('reviews.itemsCaption')}</caption>
              <thead>
                <tr className={headRowClass}>
                  <th scope="col" className={thClass}>
                    {t('admin.users.colLoginId')}
                  </th>
                  <th scope="col" className={thClass}>
                    {t('admin.users.colName')}
                  </th>
                  <th scope="col" className={thClass}>
                    {t('admin.users.colRole')}
                  </th>
                  <th scope="col" className={thClass}>
                    {t('admin.users.colLastLogin')}
                  </th>
                  <th scope="col" className={thClass}>
                    {t('reviews.decision')}
                  </th>
                  {canChange && current.state === 'open' && (
                    <th scope="col" className={thClass}>
                      {t('account.actions')}
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {current.items.map((item) => (
                  <tr
                    key={item.userId}
                    className={rowClass}
                    data-testid="review-item"
                    data-login-id={item.loginId}
                    data-decision={item.decision}
                  >
                    <th scope="row" className={`${thClass} font-normal`}>
                      {item.loginId}
                    </th>
                    <td className={tdClass}>{item.displayName}</td>
                    <td className={tdClass}>{roleName(t, item.role)}</td>
                    <td className={tdClass}>
                      <When iso={item.lastLoginAt} />
                    </td>
                    <td className={tdClass}>
                      <Badge tone={decisionTone[item.decision]}>{t(`reviews.decisions.${item.decision as Decision}`)}</Badge>
                    </td>
                    {canChange && current.state === 'open' && (
                      <td className={tdClass}>
                        <div className="flex flex-wrap gap-2">
                          <Button
                            variant="outline"
                            size="md"
                            busy={busy === `confirmed-${item.userId}`}
                            onClick={() => void decide(item, 'confirmed')}
                          >
                            {t('reviews.confirm')}
                            <span className="sr-only">（{item.displayName}）</span>
                          </Button>
                          <Button
                            variant="outline"
                            size="md"
                            busy={busy === `revoked-${item.userId}`}
                            onClick={() => setRevoking(item)}
                          >
                            {t('reviews.revoke')}
                            <span className="sr-only">（{item.displayName}）</span>
                          </Button>
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>

          {canChange && current.state === 'open' ? (
            <form noValidate onSubmit={signOff} className="flex flex-col gap-4 rounded-8 border border-solid-gray-420 p-4 sm:p-6">
              <h3 className="text-std-20B-150 text-solid-gray-900">{t('reviews.signOffTitle')}</h3>
              <TextareaField
                label={t('reviews.findings')}
                hint={t('reviews.findingsHint')}
                rows={4}
                maxLength={10_000}
                value={findings}
                onChange={(e) => setFindings(e.target.value)}
              />
              <div>
                <Button type="submit" variant="solid-fill" size="md" busy={busy === 'signoff'}>
                  {t('reviews.signOff')}
                </Button>
              </div>
            </form>
          ) : (
            current.findings !== null && (
              <div className="flex flex-col gap-2">
                <h3 className="text-std-20B-150 text-solid-gray-900">{t('reviews.findings')}</h3>
                <p className="text-std-16N-170 whitespace-pre-line" data-testid="review-findings">
                  {current.findings || t('reviews.noFindings')}
                </p>
              </div>
            )
          )}

          <div className="flex flex-col gap-3">
            <h3 className="text-std-20B-150 text-solid-gray-900">{t('reviews.exportTitle')}</h3>
            <div className="flex flex-wrap gap-4">
              <Button variant="outline" size="md" busy={busy === 'export-csv'} onClick={() => void exportAs('csv')}>
                {t('reviews.exportCsv')}
              </Button>
              <Button variant="outline" size="md" busy={busy === 'export-xlsx'} onClick={() => void exportAs('xlsx')}>
                {t('reviews.exportXlsx')}
              </Button>
            </div>
          </div>
        </section>
      )}

      <ConfirmDialog
        open={revoking !== null}
        title={t('reviews.revokeTitle', { name: revoking?.displayName ?? '' })}
        body={<p>{t('reviews.revokeBody')}</p>}
        confirmLabel={t('reviews.revoke')}
        onConfirm={() => {
          const item = revoking;
          setRevoking(null);
          if (item) void decide(item, 'revoked');
        }}
        onCancel={() => setRevoking(null)}
      />
      {dialog}
    </div>
  );
}

function roleName(t: TFunction, role: string): string {
  const known = ['tenant_admin', 'auditor', 'approver', 'staff', 'guest', 'operator'];
  return known.includes(role) ? t(`roles.${role as 'staff'}`) : role;
}

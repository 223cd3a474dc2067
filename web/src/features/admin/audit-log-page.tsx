/**
 * 監査ログ (LOG-04): the tenant's own audit events for admins and auditors, newest first, with
 * filters (period, action, result, who, target) and "さらに表示" paging; each row opens to show its
 * details, request ID and user agent. Exports need a recent verification (step-up): CSV of the
 * filtered range for Excel, and JSONL of the whole chain, which `kura audit verify-export` checks
 * offline for any edit, deletion or truncation.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { downloadFile, errorCode, getJson, postJson } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { Badge, type BadgeTone } from '../../ui/badge';
import { Button } from '../../ui/button';
import { headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { SelectField, TextareaField, TextField } from '../../ui/form';
import { ErrorBanner } from '../../ui/messages';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { When } from '../files/file-bits';
import { StepUpCancelled, useStepUp } from '../identity/step-up';

type Outcome = 'success' | 'failure' | 'denied' | 'error';
interface AuditEvent {
  seq: number;
  occurredAt: string;
  actor: { type: string; id: string | null; loginId: string | null; displayName: string | null };
  ip: string | null;
  zone: string | null;
  userAgent: string | null;
  requestId: string | null;
  action: string;
  target: { type: string | null; id: string | null };
  outcome: Outcome;
  reason: string | null;
  details: Record<string, unknown>;
}
interface Filters {
  from: string;
  to: string;
  action: string;
  outcome: '' | Outcome;
  actor: string;
  target: string;
}

const EMPTY: Filters = { from: '', to: '', action: '', outcome: '', actor: '', target: '' };
const PAGE = 50;
const TONE: Record<Outcome, BadgeTone> = { success: 'success', failure: 'warning', denied: 'warning', error: 'error' };
/** Action prefixes with a name of their own; others show the action code alone. */
const CATEGORIES = [
  'auth',
  'session',
  'user',
  'group',
  'file',
  'folder',
  'upload',
  'exchange',
  'malware',
  'tenant',
  'audit',
  'support',
  'api_token',
  'access_review',
  'mail',
  'job',
  'system',
] as const;
const ACTOR_TYPES = ['user', 'operator', 'external', 'system', 'anonymous'] as const;
const isOneOf = <T extends string>(list: readonly T[], v: string): v is T => (list as readonly string[]).includes(v);
/** Days are the tenant's (Japan): a day runs from 00:00 to 24:00 JST. */
const jstMidnight = (day: string, plusDays = 0) =>
  new Date(Date.parse(`${day}T00:00:00+09:00`) + plusDays * 86_400_000).toISOString();

function query(f: Filters): URLSearchParams {
  const q = new URLSearchParams();
  if (f.from) q.set('from', jstMidnight(f.from));
  if (f.to) q.set('to', jstMidnight(f.to, 1)); // the end day is included
  for (const key of ['action', 'outcome', 'actor', 'target'] as const) if (f[key].trim()) q.set(key, f[key].trim());
  return q;
}

export function AuditLogPage() {
  const { t } = useTranslation();
  useDocumentTitle(t('auditLog.title'));
  const { run, dialog } = useStepUp();
  const [form, setForm] = useState<Filters>(EMPTY);
  const [applied, setApplied] = useState<Filters>(EMPTY);
  const [items, setItems] = useState<AuditEvent[] | null>(null);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [failure, setFailure] = useState<{ code: string; n: number; title: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [keyId, setKeyId] = useState<string | null>(null);
  const [dateError, setDateError] = useState<string | undefined>(undefined);

  const fail = useCallback(
    (title: string, err: unknown) => setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1, title })),
    [],
  );

  const load = useCallback(
    async (filters: Filters, before: number | null) => {
      setBusy(before === null ? 'search' : 'more');
      try {
        const q = query(filters);
        q.set('limit', String(PAGE));
        if (before !== null) q.set('before', String(before));
        const page = (await getJson(`/api/v1/audit/events?${q.toString()}`)) as {
          items: AuditEvent[];
          nextBefore: number | null;
        };
        setItems((prev) => (before === null ? page.items : [...(prev ?? []), ...page.items]));
        setNextBefore(page.nextBefore);
        setFailure(null);
      } catch (err) {
        fail(t('auditLog.errorTitle'), err);
      } finally {
        setBusy(null);
      }
    },
    [fail, t],
  );
  useEffect(() => {
    void load(EMPTY, null);
    getJson('/api/v1/audit/signing-key').then(
      (r) => setKeyId((r as { keyId: string }).keyId),
      () => setKeyId(null),
    );
  }, [load]);

  function search(event: FormEvent) {
    event.preventDefault();
    const valid = (d: string) => d === '' || (/^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(`${d}T00:00:00+09:00`)));
    if (!valid(form.from) || !valid(form.to)) return setDateError(t('auditLog.dateInvalid'));
    if (form.from && form.to && form.from > form.to) return setDateError(t('auditLog.dateOrder'));
    setDateError(undefined);
    setApplied(form);
    void load(form, null);
  }

  function clear() {
    setForm(EMPTY);
    setApplied(EMPTY);
    void load(EMPTY, null);
  }

  async function exportAs(format: 'csv' | 'jsonl') {
    if (busy) return;
    setBusy(format);
    try {
      const q = format === 'csv' ? query(applied) : new URLSearchParams();
      q.set('format', format);
      if (format === 'csv') await run(() => downloadFile(`/api/v1/audit/export?${q.toString()}`, `audit.${format}`));
      else {
        // The whole chain can be large: after the server says the export is allowed (asking for
        // step-up here if needed), the browser streams it to disk instead of holding it in memory.
        await run(() => getJson('/api/v1/audit/export/ready'));
        const a = document.createElement('a');
        a.href = `/api/v1/audit/export?${q.toString()}`;
        a.download = '';
        a.style.display = 'none';
        document.body.append(a);
        a.click();
        a.remove();
      }
    } catch (err) {
      if (!(err instanceof StepUpCancelled)) fail(t('auditLog.exportErrorTitle'), err);
    } finally {
      setBusy(null);
    }
  }

  const set = (key: keyof Filters) => (e: { target: { value: string } }) => setForm((f) => ({ ...f, [key]: e.target.value }));
  const category = (action: string): string | null => {
    const prefix = action.split('.')[0] ?? '';
    return isOneOf(CATEGORIES, prefix) ? t(`auditLog.categories.${prefix}`) : null;
  };
  const who = (e: AuditEvent): string =>
    e.actor.displayName
      ? `${e.actor.displayName}（${e.actor.loginId ?? ''}）`
      : isOneOf(ACTOR_TYPES, e.actor.type)
        ? `${t(`auditLog.actorTypes.${e.actor.type}`)}${e.actor.id ? `（${e.actor.id}）` : ''}`
        : (e.actor.id ?? e.actor.type);

  return (
    <div className="flex flex-col gap-6">
      <PageHeading>{t('auditLog.title')}</PageHeading>
      <p className="text-std-16N-170">{t('auditLog.lead')}</p>
      {failure && <ErrorBanner key={failure.n} title={failure.title} code={failure.code} />}

      <AuditReviews />

      <form
        noValidate
        onSubmit={search}
        className="flex flex-col gap-6 rounded-8 border border-solid-gray-420 p-4 sm:p-6"
        aria-labelledby="audit-filters"
        data-testid="audit-filters"
      >
        <SectionHeading id="audit-filters">{t('auditLog.filtersTitle')}</SectionHeading>
        <div className="grid grid-cols-1 gap-6 sm:grid-cols-2">
          <TextField type="date" label={t('auditLog.from')} value={form.from} onChange={set('from')} />
          <TextField type="date" label={t('auditLog.to')} value={form.to} onChange={set('to')} error={dateError} />
          <TextField
            label={t('auditLog.action')}
            hint={t('auditLog.actionHint')}
            value={form.action}
            onChange={set('action')}
            maxLength={100}
            autoComplete="off"
            data-testid="filter-action"
          />
          <SelectField
            label={t('auditLog.outcome')}
            value={form.outcome}
            onChange={set('outcome')}
            options={[
              { value: '', label: t('auditLog.any') },
              ...(['success', 'failure', 'denied', 'error'] as const).map((o) => ({
                value: o,
                label: t(`auditLog.outcomes.${o}`),
              })),
            ]}
          />
          <TextField
            label={t('auditLog.actor')}
            hint={t('auditLog.actorHint')}
            value={form.actor}
            onChange={set('actor')}
            maxLength={200}
            autoComplete="off"
          />
          <TextField
            label={t('auditLog.target')}
            value={form.target}
            onChange={set('target')}
            maxLength={200}
            autoComplete="off"
          />
        </div>
        <div className="flex flex-wrap gap-4">
          <Button type="submit" variant="solid-fill" size="md" busy={busy === 'search'}>
            {t('auditLog.search')}
          </Button>
          <Button variant="outline" size="md" onClick={clear}>
            {t('auditLog.clear')}
          </Button>
        </div>
      </form>

      <section aria-labelledby="audit-results" className="flex flex-col gap-4">
        <SectionHeading id="audit-results">{t('auditLog.resultsTitle')}</SectionHeading>
        {items === null && !failure && <p className="text-std-16N-170">{t('app.loading')}</p>}
        {items && items.length === 0 && <p className="text-std-16N-170">{t('auditLog.none')}</p>}
        <p className="sr-only" role="status">
          {items ? t('auditLog.shown', { count: items.length }) : ''}
        </p>
        {items && items.length > 0 && (
          <div className="overflow-x-auto">
            <table className="w-full text-std-16N-170" data-testid="audit-table">
              <caption className="sr-only">{t('auditLog.caption')}</caption>
              <thead>
                <tr className={headRowClass}>
                  <th scope="col" className={`${thClass} whitespace-nowrap`}>
                    {t('auditLog.occurredAt')}
                  </th>
                  <th scope="col" className={thClass}>
                    {t('auditLog.actor')}
                  </th>
                  <th scope="col" className={thClass}>
                    {t('auditLog.action')}
                  </th>
                  <th scope="col" className={`${thClass} whitespace-nowrap`}>
                    {t('auditLog.outcome')}
                  </th>
                  <th scope="col" className={thClass}>
                    {t('auditLog.source')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <tr key={e.seq} className={rowClass} data-testid="audit-row" data-action={e.action} data-outcome={e.outcome}>
                    <td className={`${tdClass} whitespace-nowrap`}>
                      <When iso={e.occurredAt} />
                      <span className="block text-solid-gray-700">#{e.seq}</span>
                    </td>
                    <td className={`${tdClass} break-all`}>{who(e)}</td>
                    <th scope="row" className={`${thClass} font-normal`}>
                      <details>
                        <summary className="cursor-pointer">
                          {category(e.action) && <span className="me-2">{category(e.action)}</span>}
                          <code className="break-all">{e.action}</code>
                        </summary>
                        <dl
                          className="mt-2 grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1 text-std-16N-170"
                          data-testid="audit-detail"
                        >
                          {e.target.id && (
                            <>
                              <dt className="font-bold">{t('auditLog.target')}</dt>
                              <dd className="break-all">
                                {e.target.type}: {e.target.id}
                              </dd>
                            </>
                          )}
                          {e.reason && (
                            <>
                              <dt className="font-bold">{t('auditLog.reason')}</dt>
                              <dd className="break-all">{e.reason}</dd>
                            </>
                          )}
                          <dt className="font-bold">{t('auditLog.details')}</dt>
                          <dd>
                            <pre className="whitespace-pre-wrap break-all font-sans">{JSON.stringify(e.details, null, 1)}</pre>
                          </dd>
                          <dt className="font-bold">{t('auditLog.requestId')}</dt>
                          <dd className="break-all">{e.requestId ?? '—'}</dd>
                          <dt className="font-bold">{t('auditLog.userAgent')}</dt>
                          <dd className="break-all">{e.userAgent ?? '—'}</dd>
                        </dl>
                      </details>
                    </th>
                    <td className={tdClass}>
                      <Badge tone={TONE[e.outcome]}>{t(`auditLog.outcomes.${e.outcome}`)}</Badge>
                    </td>
                    <td className={`${tdClass} break-all`}>
                      {e.ip ?? '—'}
                      {e.zone && (
                        <span className="block text-solid-gray-700">
                          {t(`auditLog.zones.${e.zone === 'internet' ? 'internet' : 'lgwan'}`)}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {nextBefore !== null && (
          <div>
            <Button
              variant="outline"
              size="md"
              busy={busy === 'more'}
              onClick={() => void load(applied, nextBefore)}
              data-testid="audit-more"
            >
              {t('auditLog.more')}
            </Button>
          </div>
        )}
      </section>

      <section aria-labelledby="audit-export" className="flex flex-col gap-4">
        <SectionHeading id="audit-export">{t('auditLog.exportTitle')}</SectionHeading>
        <p className="text-std-16N-170">{t('auditLog.exportLead')}</p>
        {keyId && (
          <p className="text-std-16N-170">
            {t('auditLog.signingKey')}: <code data-testid="signing-key-id">{keyId}</code>
          </p>
        )}
        <div className="flex flex-wrap gap-4">
          <Button variant="outline" size="md" busy={busy === 'csv'} onClick={() => void exportAs('csv')} data-testid="export-csv">
            {t('auditLog.exportCsv')}
          </Button>
          <Button
            variant="outline"
            size="md"
            busy={busy === 'jsonl'}
            onClick={() => void exportAs('jsonl')}
            data-testid="export-jsonl"
          >
            {t('auditLog.exportJsonl')}
          </Button>
        </div>
      </section>
      {dialog}
    </div>
  );
}

interface Review {
  id: string;
  periodFrom: string;
  periodTo: string;
  dueAt: string;
  state: 'open' | 'signed_off';
  overdue: boolean;
  summary: {
    events: number;
    byOutcome: Record<string, number>;
    notable: Array<{ kind: string; count: number; who?: string | null }>;
  };
  signedOffBy: string | null;
  signedOffAt: string | null;
  findings: string | null;
}
const NOTABLE = [
  'repeated_failures',
  'mass_download',
  'off_hours_admin',
  'bulk_permission_changes',
  'malware',
  'integrity',
] as const;

/**
 * 定期レビュー (LOG-05): the weekly reviews of this log with their notable events; an admin or
 * auditor writes the findings and signs one off. Overdue ones are called out first.
 */
function AuditReviews() {
  const { t } = useTranslation();
  const [items, setItems] = useState<Review[] | null>(null);
  const [findings, setFindings] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string | undefined>>({});
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const load = useCallback(async () => {
    try {
      setItems(((await getJson('/api/v1/audit/reviews')) as { items: Review[] }).items);
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  async function act(key: string, work: () => Promise<unknown>) {
    if (busy) return;
    setBusy(key);
    try {
      await work();
      setFailure(null);
      await load();
    } catch (err) {
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    } finally {
      setBusy(null);
    }
  }
  function signOff(id: string) {
    const text = (findings[id] ?? '').trim();
    if (!text) return setErrors((e) => ({ ...e, [id]: t('auditLog.reviews.findingsRequired') }));
    setErrors((e) => ({ ...e, [id]: undefined }));
    void act(`sign-${id}`, () => postJson(`/api/v1/audit/reviews/${id}/sign-off`, { findings: text }));
  }
  const overdue = items?.filter((r) => r.overdue).length ?? 0;
  const notableText = (n: Review['summary']['notable'][number]) =>
    (NOTABLE as readonly string[]).includes(n.kind)
      ? t(`auditLog.reviews.notable.${n.kind as (typeof NOTABLE)[number]}`, { count: n.count, who: n.who ?? '—' })
      : `${n.kind} × ${n.count}`;
  return (
    <section aria-labelledby="audit-reviews" className="flex flex-col gap-4" data-testid="audit-reviews">
      <SectionHeading id="audit-reviews">{t('auditLog.reviews.title')}</SectionHeading>
      <p className="text-std-16N-170">{t('auditLog.reviews.lead')}</p>
      {overdue > 0 && (
        <p
          className="rounded-8 border border-red-900 bg-red-50 p-4 text-std-16B-170 text-red-900"
          role="alert"
          data-testid="reviews-overdue"
        >
          {t('auditLog.reviews.overdue', { count: overdue })}
        </p>
      )}
      {failure && <ErrorBanner key={failure.n} title={t('auditLog.reviews.errorTitle')} code={failure.code} />}
      <div>
        <Button
          variant="outline"
          size="md"
          busy={busy === 'open'}
          onClick={() => void act('open', () => postJson('/api/v1/audit/reviews'))}
        >
          {t('auditLog.reviews.openNow')}
        </Button>
      </div>
      {items && items.length === 0 && <p className="text-std-16N-170">{t('auditLog.reviews.none')}</p>}
      {items?.map((r) => (
        <details
          key={r.id}
          className="rounded-8 border border-solid-gray-420 p-4"
          data-testid="review"
          data-state={r.state}
          data-overdue={r.overdue || undefined}
          open={r.state === 'open'}
        >
          <summary className="cursor-pointer text-std-17B-170">
            <When iso={r.periodFrom} /> 〜 <When iso={r.periodTo} />{' '}
            <Badge tone={r.state === 'signed_off' ? 'success' : r.overdue ? 'error' : 'warning'}>
              {t(
                r.state === 'signed_off'
                  ? 'auditLog.reviews.done'
                  : r.overdue
                    ? 'auditLog.reviews.late'
                    : 'auditLog.reviews.todo',
              )}
            </Badge>
          </summary>
          <div className="mt-4 flex flex-col gap-4 text-std-16N-170">
            <p>
              {t('auditLog.reviews.counts', {
                events: r.summary.events,
                failure: (r.summary.byOutcome.failure ?? 0) + (r.summary.byOutcome.denied ?? 0),
              })}{' '}
              {r.state === 'open' && (
                <>
                  {t('auditLog.reviews.due')}: <When iso={r.dueAt} />
                </>
              )}
            </p>
            {r.summary.notable.length === 0 ? (
              <p>{t('auditLog.reviews.nothingNotable')}</p>
            ) : (
              <ul className="list-disc ps-6" data-testid="review-notable">
                {r.summary.notable.map((n, i) => (
                  <li key={i}>{notableText(n)}</li>
                ))}
              </ul>
            )}
            {r.state === 'signed_off' ? (
              <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1">
                <dt className="font-bold">{t('auditLog.reviews.findings')}</dt>
                <dd className="whitespace-pre-wrap break-all">{r.findings}</dd>
                <dt className="font-bold">{t('auditLog.reviews.signedOff')}</dt>
                <dd>
                  <When iso={r.signedOffAt} />
                </dd>
              </dl>
            ) : (
              <div className="flex flex-col gap-4">
                <TextareaField
                  label={t('auditLog.reviews.findings')}
                  hint={t('auditLog.reviews.findingsHint')}
                  rows={3}
                  maxLength={4000}
                  value={findings[r.id] ?? ''}
                  onChange={(e) => setFindings((f) => ({ ...f, [r.id]: e.target.value }))}
                  error={errors[r.id]}
                />
                <div>
                  <Button variant="solid-fill" size="md" busy={busy === `sign-${r.id}`} onClick={() => signOff(r.id)}>
                    {t('auditLog.reviews.signOff')}
                  </Button>
                </div>
              </div>
            )}
          </div>
        </details>
      ))}
    </section>
  );
}

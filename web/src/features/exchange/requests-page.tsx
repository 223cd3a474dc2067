/**
 * 受け取り依頼 (`/exchange/requests`, LG-03): a staff member asks an outside party for files. The
 * form sets the subject, message, the party's address, how long the link stays valid (up to the
 * tenant's maximum), which types and what size are accepted, whether a one-time code is needed
 * (on by default) and the language of the mail and pages. The link is shown once after creating
 * (it is mailed to the party too); the list shows the own requests with their state, expiry and
 * how many files came in, and open ones can be revoked.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, errorCode } from '../../api/api-client';
import { routeLink } from '../../app/router';
import { useDocumentTitle } from '../../app/use-document-title';
import { currentLanguage } from '../../i18n/i18n';
import { Button } from '../../ui/button';
import { ConfirmDialog, headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { Checkbox, Fieldset, SelectField, TextareaField, TextField } from '../../ui/form';
import { linkClass } from '../../ui/link';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { When } from '../files/file-bits';
import { formatBytes } from '../files/file-format';
import { featureOn } from '../identity/identity.api';
import { useMe } from '../identity/session';
import { StepUpCancelled, useStepUp } from '../identity/step-up';
import { CopyLink } from './copy-link';
import {
  createRequest,
  fetchRequests,
  revokeRequest,
  TYPE_CATEGORIES,
  type ExchangeLanguage,
  type RequestDto,
  type TypeCategory,
} from './exchange.api';
import {
  DEFAULT_EXPIRY_DAYS,
  EMAIL_PATTERN,
  expiryLimit,
  listOf,
  maxLinkExpiryDays,
  MB,
  RequestStateBadge,
  typeLabel,
} from './exchange-bits';

const TITLE_MAX = 200;
const MESSAGE_MAX = 4000;
const DEFAULT_MAX_MB = 100;
/** The largest size a request may accept in the form (100 GB); the tenant's file limits still apply. */
const MAX_MB = 100 * 1024;

type Outcome =
  | { kind: 'created'; request: RequestDto & { link: string }; n: number }
  | { kind: 'revoked'; title: string; n: number }
  | { kind: 'error'; title: string; code: string; n: number };

export function RequestsPage() {
  const { t } = useTranslation();
  const me = useMe();
  useDocumentTitle(t('exchange.requests.title'));
  const { run, dialog } = useStepUp();
  const enabled = featureOn(me, 'upload_requests');
  const [requests, setRequests] = useState<RequestDto[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [revoking, setRevoking] = useState<RequestDto | null>(null);
  const [busy, setBusy] = useState(false);
  const counter = useRef(0);

  const load = useCallback(async () => {
    try {
      setRequests(await fetchRequests());
      setLoadError(null);
    } catch (err) {
      setLoadError(errorCode(err));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function revoke() {
    if (!revoking || busy) return;
    const request = revoking;
    setBusy(true);
    try {
      await run(() => revokeRequest(request.id));
      setOutcome({ kind: 'revoked', title: request.title, n: ++counter.current });
      await load();
    } catch (err) {
      if (!(err instanceof StepUpCancelled))
        setOutcome({ kind: 'error', title: t('exchange.requests.revokeErrorTitle'), code: errorCode(err), n: ++counter.current });
    } finally {
      setBusy(false);
      setRevoking(null);
    }
  }

  return (
    <div className="flex flex-col gap-12">
      <div className="flex flex-col gap-4">
        <PageHeading>{t('exchange.requests.title')}</PageHeading>
        <p className="text-std-16N-170">{t('exchange.requests.lead')}</p>
      </div>
      {outcome?.kind === 'created' && (
        <SuccessBanner
          key={outcome.n}
          title={t('exchange.requests.created', { title: outcome.request.title })}
          data-testid="request-created"
        >
          <div className="flex flex-col gap-4">
            <p>{t('exchange.requests.createdBody', { email: outcome.request.recipientEmail })}</p>
            <CopyLink
              url={outcome.request.link}
              label={t('exchange.requests.linkLabel')}
              hint={t('exchange.requests.linkHint')}
            />
          </div>
        </SuccessBanner>
      )}
      {outcome?.kind === 'revoked' && (
        <SuccessBanner
          key={outcome.n}
          title={t('exchange.requests.revoked', { title: outcome.title })}
          data-testid="request-revoked"
        />
      )}
      {outcome?.kind === 'error' && <ErrorBanner key={outcome.n} title={outcome.title} code={outcome.code} />}

      {enabled ? (
        <CreateRequestForm
          run={run}
          onCreated={(request) => {
            setOutcome({ kind: 'created', request, n: ++counter.current });
            void load();
          }}
        />
      ) : (
        <p className="rounded-8 bg-solid-gray-50 px-4 py-3 text-std-16N-170" data-testid="requests-off">
          {t('exchange.requests.off')}
        </p>
      )}

      <section aria-labelledby="requests-list" className="flex flex-col gap-4">
        <SectionHeading id="requests-list">{t('exchange.requests.listTitle')}</SectionHeading>
        {loadError && <ErrorBanner title={t('app.loadErrorTitle')} code={loadError} focus={false} />}
        {requests === null && !loadError && <p className="text-std-16N-170">{t('app.loading')}</p>}
        {requests && requests.length === 0 && <p className="text-std-16N-170">{t('exchange.requests.none')}</p>}
        {requests && requests.length > 0 && <RequestsTable requests={requests} onRevoke={setRevoking} />}
      </section>

      <ConfirmDialog
        open={revoking !== null}
        title={revoking ? t('exchange.requests.revokeTitle', { title: revoking.title }) : ''}
        body={<p>{t('exchange.requests.revokeBody')}</p>}
        confirmLabel={t('exchange.requests.revoke')}
        busy={busy}
        onConfirm={() => void revoke()}
        onCancel={() => setRevoking(null)}
      />
      {dialog}
    </div>
  );
}

function RequestsTable({ requests, onRevoke }: { requests: RequestDto[]; onRevoke: (r: RequestDto) => void }) {
  const { t } = useTranslation();
  const language = currentLanguage();
  return (
    <div className="overflow-x-auto">
      <table className="w-full text-std-16N-170" data-testid="requests-table">
        <caption className="sr-only">{t('exchange.requests.caption')}</caption>
        <thead>
          <tr className={headRowClass}>
            <th scope="col" className={`${thClass} whitespace-nowrap`}>
              {t('exchange.requests.col.title')}
            </th>
            <th scope="col" className={`${thClass} whitespace-nowrap`}>
              {t('exchange.col.state')}
            </th>
            <th scope="col" className={`${thClass} whitespace-nowrap`}>
              {t('exchange.col.expiresAt')}
            </th>
            <th scope="col" className={`${thClass} whitespace-nowrap`}>
              {t('exchange.requests.col.received')}
            </th>
            <th scope="col" className={`${thClass} whitespace-nowrap`}>
              {t('exchange.requests.col.rules')}
            </th>
            <th scope="col" className={`${thClass} whitespace-nowrap`}>
              {t('files.col.actions')}
            </th>
          </tr>
        </thead>
        <tbody>
          {requests.map((r) => {
            const received = r.files.filter((f) => f.state !== 'deleted').length;
            return (
              <tr key={r.id} className={rowClass} data-testid="request-row" data-id={r.id} data-state={r.state}>
                <th scope="row" className={`${thClass} font-normal`}>
                  <span className="block font-bold break-all">{r.title}</span>
                  <span className="block text-dns-14N-130 text-solid-gray-700 break-all">{r.recipientEmail}</span>
                  <span className="block text-dns-14N-130 text-solid-gray-700">
                    {t('exchange.requests.createdAt')} <When iso={r.createdAt} short />
                  </span>
                </th>
                <td className={tdClass}>
                  <RequestStateBadge state={r.state} />
                </td>
                <td className={tdClass}>
                  <When iso={r.expiresAt} short />
                  {r.deleteAt && (
                    <span className="block text-dns-14N-130 text-solid-gray-700">
                      {t('exchange.deleteOn')} <When iso={r.deleteAt} short />
                    </span>
                  )}
                </td>
                <td className={tdClass} data-testid="received-count">
                  {received > 0 ? (
                    <a className={linkClass} {...routeLink('/exchange/inbox')}>
                      {t('exchange.requests.receivedCount', { count: received })}
                    </a>
                  ) : (
                    t('exchange.requests.receivedCount', { count: 0 })
                  )}
                </td>
                <td className={`${tdClass} text-dns-14N-130`}>
                  <span className="block">
                    {r.allowedTypes.length
                      ? listOf(
                          t,
                          r.allowedTypes.map((c) => typeLabel(t, c)),
                        )
                      : t('exchange.anyType')}
                  </span>
                  <span className="block">{t('exchange.maxSizeValue', { size: formatBytes(r.maxBytes, language) })}</span>
                  <span className="block">{r.requireCode ? t('exchange.requests.codeOn') : t('exchange.requests.codeOff')}</span>
                </td>
                <td className={tdClass}>
                  {r.state === 'open' && (
                    <Button
                      variant="outline"
                      size="md"
                      className="whitespace-nowrap"
                      onClick={() => onRevoke(r)}
                      data-testid="revoke-request"
                    >
                      {t('exchange.requests.revoke')}
                      <span className="sr-only">（{r.title}）</span>
                    </Button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

type FieldErrors = Partial<Record<'title' | 'email' | 'days' | 'size', string>>;

function CreateRequestForm({
  run,
  onCreated,
}: {
  run: <T>(action: () => Promise<T>) => Promise<T>;
  onCreated: (request: RequestDto & { link: string }) => void;
}) {
  const { t } = useTranslation();
  const me = useMe();
  const maxDays = expiryLimit(me);
  const knownMax = maxLinkExpiryDays(me);
  const [title, setTitle] = useState('');
  const [message, setMessage] = useState('');
  const [email, setEmail] = useState('');
  const [days, setDays] = useState(String(Math.min(DEFAULT_EXPIRY_DAYS, maxDays)));
  const [types, setTypes] = useState<TypeCategory[]>([]);
  const [sizeMb, setSizeMb] = useState(String(DEFAULT_MAX_MB));
  const [requireCode, setRequireCode] = useState(true);
  const [lang, setLang] = useState<ExchangeLanguage>(currentLanguage());
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<{ code: string; n: number } | null>(null);
  const [busy, setBusy] = useState(false);
  const refs = {
    title: useRef<HTMLInputElement>(null),
    email: useRef<HTMLInputElement>(null),
    days: useRef<HTMLInputElement>(null),
    size: useRef<HTMLInputElement>(null),
  };

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const trimmedTitle = title.trim();
    const address = email.trim();
    const dayCount = Number(days);
    const mb = Number(sizeMb);
    const found: FieldErrors = {
      title: trimmedTitle ? undefined : t('form.fieldRequired', { field: t('exchange.requests.fields.title') }),
      email: !address
        ? t('form.fieldRequired', { field: t('exchange.requests.fields.email') })
        : EMAIL_PATTERN.test(address)
          ? undefined
          : t('exchange.emailInvalid'),
      days:
        Number.isInteger(dayCount) && dayCount >= 1 && dayCount <= maxDays
          ? undefined
          : t('exchange.daysRange', { max: maxDays }),
      size: Number.isInteger(mb) && mb >= 1 && mb <= MAX_MB ? undefined : t('exchange.requests.sizeRange', { max: MAX_MB }),
    };
    setErrors(found);
    const first = (['title', 'email', 'days', 'size'] as const).find((k) => found[k]);
    if (first) {
      refs[first].current?.focus();
      return;
    }
    setBusy(true);
    try {
      const created = await run(() =>
        createRequest({
          title: trimmedTitle,
          ...(message.trim() ? { message: message.trim() } : {}),
          recipientEmail: address,
          expiresInDays: dayCount,
          allowedTypes: types,
          maxBytes: mb * MB,
          requireCode,
          lang,
        }),
      );
      setFailure(null);
      setTitle('');
      setMessage('');
      setEmail('');
      setTypes([]);
      onCreated(created);
    } catch (err) {
      if (err instanceof StepUpCancelled) return;
      if (err instanceof ApiError && err.code === 'exchange.expiry_too_long') {
        setErrors({ days: t('errors.exchange.expiry_too_long') });
        refs.days.current?.focus();
        return;
      }
      if (err instanceof ApiError && err.code === 'request.invalid' && err.fields.includes('body.recipientEmail')) {
        setErrors({ email: t('exchange.emailInvalid') });
        refs.email.current?.focus();
        return;
      }
      setFailure((f) => ({ code: errorCode(err), n: (f?.n ?? 0) + 1 }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="request-create" className="flex flex-col gap-6">
      <SectionHeading id="request-create">{t('exchange.requests.createTitle')}</SectionHeading>
      {failure && <ErrorBanner key={failure.n} title={t('exchange.requests.createErrorTitle')} code={failure.code} />}
      <form noValidate onSubmit={(e) => void submit(e)} className="flex max-w-2xl flex-col gap-6" data-testid="request-form">
        <TextField
          label={t('exchange.requests.fields.title')}
          hint={t('exchange.requests.fields.titleHint')}
          required
          value={title}
          onChange={(e) => setTitle(e.target.value)}
          error={errors.title}
          inputRef={refs.title}
          maxLength={TITLE_MAX}
          autoComplete="off"
          name="title"
        />
        <TextareaField
          label={
            <>
              {t('exchange.requests.fields.message')}
              <span className="text-oln-16N-100 text-solid-gray-700">{t('form.optional')}</span>
            </>
          }
          hint={t('exchange.requests.fields.messageHint')}
          rows={4}
          value={message}
          onChange={(e) => setMessage(e.target.value)}
          maxLength={MESSAGE_MAX}
          name="message"
        />
        <TextField
          label={t('exchange.requests.fields.email')}
          hint={t('exchange.requests.fields.emailHint')}
          required
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={errors.email}
          inputRef={refs.email}
          autoComplete="off"
          maxLength={254}
          name="recipientEmail"
        />
        <TextField
          label={t('exchange.fields.expiresInDays')}
          hint={
            knownMax ? t('exchange.fields.expiresInDaysHint', { max: knownMax }) : t('exchange.fields.expiresInDaysHintGeneric')
          }
          required
          type="number"
          inputMode="numeric"
          min={1}
          max={maxDays}
          value={days}
          onChange={(e) => setDays(e.target.value)}
          error={errors.days}
          inputRef={refs.days}
          className="max-w-40"
          name="expiresInDays"
        />
        <Fieldset legend={t('exchange.requests.fields.types')} size="group" data-testid="request-types">
          <p className="text-std-16N-170 text-solid-gray-700">{t('exchange.requests.fields.typesHint')}</p>
          <div className="grid grid-cols-1 gap-x-6 sm:grid-cols-2">
            {TYPE_CATEGORIES.map((c) => (
              <Checkbox
                key={c}
                checked={types.includes(c)}
                onChange={(e) => setTypes((list) => (e.target.checked ? [...list, c] : list.filter((x) => x !== c)))}
                data-category={c}
              >
                {typeLabel(t, c)}
              </Checkbox>
            ))}
          </div>
        </Fieldset>
        <TextField
          label={t('exchange.requests.fields.maxSize')}
          hint={t('exchange.requests.fields.maxSizeHint')}
          required
          type="number"
          inputMode="numeric"
          min={1}
          max={MAX_MB}
          value={sizeMb}
          onChange={(e) => setSizeMb(e.target.value)}
          error={errors.size}
          inputRef={refs.size}
          className="max-w-40"
          name="maxMb"
        />
        {/* Without a code the link is public: offered only where the tenant allows public links (AC-06). */}
        {me.publicLinks === true && (
          <Checkbox
            checked={requireCode}
            onChange={(e) => setRequireCode(e.target.checked)}
            hint={t('exchange.requests.fields.requireCodeHint')}
            name="requireCode"
          >
            {t('exchange.requests.fields.requireCode')}
          </Checkbox>
        )}
        <SelectField
          label={t('exchange.fields.lang')}
          hint={t('exchange.requests.fields.langHint')}
          value={lang}
          onChange={(e) => setLang(e.target.value === 'en' ? 'en' : 'ja')}
          options={[
            { value: 'ja', label: t('app.language.ja') },
            { value: 'en', label: t('app.language.en') },
          ]}
          name="lang"
        />
        <div>
          <Button type="submit" variant="solid-fill" size="lg" busy={busy} data-testid="request-submit">
            {t('exchange.requests.submit')}
          </Button>
        </div>
      </form>
    </section>
  );
}

/**
 * 外部へ送信 (`/exchange/send?files=<id,id>`, TLS-03, TLS-04, PII-01/02): sends files to people
 * outside the organisation. The form takes the recipients' addresses, the 利用目的 (required), a
 * message, how long the link stays valid, a download limit and how recipients prove who they are
 * (a one-time code, or a password where the tenant allows password-only links).
 *
 * 「確認」 asks the server for a preview, and the confirmation step lists EVERY external address and
 * domain prominently (誤送信防止), the files with their labels, whether 上長承認 is needed and by
 * whom, and the expiry and limit; the sender ticks that the addresses are right before 「送信する」.
 * The send carries the confirmed domains, so a change made after the preview is refused
 * (`share.confirmation_required`). Policy refusals (labels, domain rules, …) come as error codes and
 * are shown in words.
 */
import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, errorCode } from '../../api/api-client';
import { routeLink } from '../../app/router';
import { useDocumentTitle } from '../../app/use-document-title';
import { errorMessageKey } from '../../i18n/error-message';
import { currentLanguage } from '../../i18n/i18n';
import { Badge } from '../../ui/badge';
import { Button } from '../../ui/button';
import { headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { Checkbox, ErrorText, inputClass, RadioGroup, SelectField, TextareaField, TextField } from '../../ui/form';
import { linkClass } from '../../ui/link';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { NotificationBanner } from '../../ui/notification-banner';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { PasswordField } from '../../ui/password-field';
import { When } from '../files/file-bits';
import { formatBytes } from '../files/file-format';
import { fetchFile, type FileDetail } from '../files/files.api';
import { featureOn } from '../identity/identity.api';
import { useMe } from '../identity/session';
import { StepUpCancelled, useStepUp } from '../identity/step-up';
import {
  createShare,
  LINK_PASSWORD_MIN,
  previewShare,
  SHARE_LIMITS,
  type ExchangeLanguage,
  type ShareDto,
  type ShareInput,
  type SharePreview,
  type Verification,
} from './exchange.api';
import {
  approvalReasonText,
  DEFAULT_EXPIRY_DAYS,
  EMAIL_PATTERN,
  expiryLimit,
  maxLinkExpiryDays,
  ShortSha256,
  summaryListClass,
  summaryTermClass,
  summaryValueClass,
} from './exchange-bits';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MESSAGE_MAX = 4000;
/** The server's largest download limit per file (src/exchange/exchange.routes.ts). */
const MAX_DOWNLOADS = 100;

/** The file ids of `?files=a,b` (valid ids only, each once, at most the server's limit). */
function selectedFileIds(): string[] {
  const raw = new URLSearchParams(window.location.search).get('files') ?? '';
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => UUID.test(s));
  return [...new Set(ids)].slice(0, SHARE_LIMITS.files);
}

type Selected = { id: string; file: FileDetail | null; error: string | null };

type Step = { kind: 'form' } | { kind: 'confirm'; input: ShareInput; preview: SharePreview } | { kind: 'done'; share: ShareDto };

export function SendPage() {
  const { t } = useTranslation();
  const me = useMe();
  useDocumentTitle(t('exchange.send.title'));
  const { run, dialog } = useStepUp();
  const enabled = featureOn(me, 'external_sharing');
  const fileIds = useMemo(selectedFileIds, []);
  const [selected, setSelected] = useState<Selected[]>(() => fileIds.map((id) => ({ id, file: null, error: null })));
  const [step, setStep] = useState<Step>({ kind: 'form' });
  const [failure, setFailure] = useState<{ code: string; reasons: readonly string[]; n: number } | null>(null);
  const draft = useDraft();

  useEffect(() => {
    const controller = new AbortController();
    void Promise.all(
      fileIds.map(async (id): Promise<Selected> => {
        try {
          return { id, file: await fetchFile(id, controller.signal), error: null };
        } catch (err) {
          return { id, file: null, error: errorCode(err) };
        }
      }),
    ).then((list) => {
      if (!controller.signal.aborted) setSelected(list);
    });
    return () => controller.abort();
  }, [fileIds]);

  const fail = useCallback((err: unknown) => {
    if (err instanceof StepUpCancelled) return;
    setFailure((f) => ({
      code: errorCode(err),
      reasons: err instanceof ApiError ? err.reasons : [],
      n: (f?.n ?? 0) + 1,
    }));
  }, []);

  const usable = selected.filter((s) => s.error === null).map((s) => s.id);

  if (!enabled || fileIds.length === 0) {
    return (
      <div className="flex flex-col gap-6">
        <PageHeading>{t('exchange.send.title')}</PageHeading>
        <p className="text-std-16N-170" data-testid={enabled ? 'send-no-files' : 'sharing-off'}>
          {enabled ? t('exchange.send.noFiles') : t('exchange.send.off')}
        </p>
        <p className="text-std-16N-170">
          <a className={linkClass} {...routeLink('/files')}>
            {t('exchange.send.toFiles')}
          </a>
        </p>
      </div>
    );
  }

  return (
    <div className="flex flex-col gap-8">
      <div className="flex flex-col gap-4">
        <PageHeading focusOnMount={step.kind !== 'form'}>
          {step.kind === 'confirm'
            ? t('exchange.send.confirmTitle')
            : step.kind === 'done'
              ? t('exchange.send.doneTitle')
              : t('exchange.send.title')}
        </PageHeading>
        <ol className="flex flex-wrap gap-x-6 gap-y-1 text-std-16N-170" aria-label={t('exchange.send.stepsLabel')}>
          {(['form', 'confirm', 'done'] as const).map((k, i) => (
            <li
              key={k}
              aria-current={step.kind === k ? 'step' : undefined}
              className={step.kind === k ? 'font-bold text-blue-1000' : 'text-solid-gray-700'}
            >
              {t('exchange.send.stepN', { n: i + 1, name: t(`exchange.send.steps.${k}`) })}
            </li>
          ))}
        </ol>
      </div>
      {failure && (
        <ErrorBanner key={failure.n} title={t('exchange.send.errorTitle')} code={failure.code} data-testid="send-error">
          {failure.code === 'share.domain_denied' && failure.reasons.length > 0 && (
            <p>{t('exchange.send.deniedDomains', { domains: failure.reasons.join(t('exchange.listSeparator')) })}</p>
          )}
        </ErrorBanner>
      )}

      {step.kind === 'done' ? (
        <Done share={step.share} />
      ) : (
        <>
          <SelectedFiles selected={selected} />
          {step.kind === 'form' ? (
            <ShareForm
              fileIds={usable}
              draft={draft}
              onPreview={async (input) => {
                try {
                  const preview = await run(() => previewShare(input));
                  setFailure(null);
                  setStep({ kind: 'confirm', input, preview });
                } catch (err) {
                  fail(err);
                }
              }}
            />
          ) : (
            <Confirm
              input={step.input}
              preview={step.preview}
              onBack={() => setStep({ kind: 'form' })}
              onSend={async () => {
                try {
                  const share = await run(() => createShare({ ...step.input, confirmedDomains: step.preview.domains }));
                  setFailure(null);
                  setStep({ kind: 'done', share });
                } catch (err) {
                  if (errorCode(err) === 'share.confirmation_required') setStep({ kind: 'form' });
                  fail(err);
                }
              }}
            />
          )}
        </>
      )}
      {dialog}
    </div>
  );
}

function SelectedFiles({ selected }: { selected: Selected[] }) {
  const { t } = useTranslation();
  const language = currentLanguage();
  return (
    <section aria-labelledby="send-files" className="flex flex-col gap-3" data-testid="send-files">
      <SectionHeading id="send-files">{t('exchange.send.filesTitle', { count: selected.length })}</SectionHeading>
      <ul className="flex flex-col gap-2">
        {selected.map((s) => (
          <li
            key={s.id}
            className="flex flex-wrap items-baseline gap-x-4 gap-y-1 rounded-8 border border-solid-gray-420 bg-white px-4 py-3 text-std-16N-170"
            data-testid="send-file"
            data-file-id={s.id}
          >
            {s.file ? (
              <>
                <a className={`${linkClass} break-all font-bold`} {...routeLink(`/files/${s.id}`)}>
                  {s.file.name}
                </a>
                <span className="text-solid-gray-700">{formatBytes(s.file.latest.size, language)}</span>
              </>
            ) : s.error ? (
              <span className="text-error-2">
                {t('exchange.send.fileUnavailable')}（{t(errorMessageKey(s.error))}）
              </span>
            ) : (
              <span>{t('app.loading')}</span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

type FormErrors = {
  recipients?: Record<number, string>;
  recipientsList?: string;
  purpose?: string;
  days?: string;
  maxDownloads?: string;
  password?: string;
  files?: string;
};

function ShareForm({
  fileIds,
  draft,
  onPreview,
}: {
  fileIds: string[];
  draft: Draft;
  onPreview: (input: ShareInput) => Promise<void>;
}) {
  const { t } = useTranslation();
  const me = useMe();
  const maxDays = expiryLimit(me);
  const knownMax = maxLinkExpiryDays(me);
  const passwordAllowed = me.features?.password_only_links === true;
  const { recipients, setRecipients, purpose, setPurpose, message, setMessage, days, setDays } = draft;
  const { maxDownloads, setMaxDownloads, verification, setVerification, password, setPassword, lang, setLang } = draft;
  const [errors, setErrors] = useState<FormErrors>({});
  const [busy, setBusy] = useState(false);
  const recipientRefs = useRef<Array<HTMLInputElement | null>>([]);
  const purposeRef = useRef<HTMLTextAreaElement>(null);
  const daysRef = useRef<HTMLInputElement>(null);
  const maxRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const addRef = useRef<HTMLButtonElement>(null);
  const listHintId = useId();

  useEffect(() => {
    if (!passwordAllowed && verification === 'password') setVerification('code');
  }, [passwordAllowed, verification, setVerification]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const addresses = recipients.map((r) => r.trim());
    const recipientErrors: Record<number, string> = {};
    addresses.forEach((a, i) => {
      if (a && !EMAIL_PATTERN.test(a)) recipientErrors[i] = t('exchange.emailInvalid');
    });
    const filled = addresses.filter(Boolean);
    const purposeText = purpose.trim();
    const dayCount = Number(days);
    const limit = maxDownloads.trim() === '' ? null : Number(maxDownloads);
    const found: FormErrors = {
      ...(Object.keys(recipientErrors).length ? { recipients: recipientErrors } : {}),
      ...(filled.length === 0 ? { recipientsList: t('exchange.send.recipientsRequired') } : {}),
      ...(new Set(filled.map((a) => a.toLowerCase())).size !== filled.length
        ? { recipientsList: t('exchange.send.recipientsDuplicate') }
        : {}),
      ...(!purposeText
        ? { purpose: t('form.fieldRequired', { field: t('exchange.send.fields.purpose') }) }
        : [...purposeText].length > SHARE_LIMITS.purpose
          ? { purpose: t('exchange.send.purposeTooLong', { max: SHARE_LIMITS.purpose }) }
          : {}),
      ...(Number.isInteger(dayCount) && dayCount >= 1 && dayCount <= maxDays
        ? {}
        : { days: t('exchange.daysRange', { max: maxDays }) }),
      ...(limit === null || (Number.isInteger(limit) && limit >= 1 && limit <= MAX_DOWNLOADS)
        ? {}
        : { maxDownloads: t('exchange.send.maxDownloadsRange', { max: MAX_DOWNLOADS }) }),
      ...(verification === 'password' && [...password].length < LINK_PASSWORD_MIN
        ? { password: t('errors.share.password_weak') }
        : {}),
      ...(fileIds.length === 0 ? { files: t('exchange.send.noUsableFiles') } : {}),
    };
    setErrors(found);
    const firstRecipient = Object.keys(recipientErrors).map(Number)[0];
    if (firstRecipient !== undefined) return recipientRefs.current[firstRecipient]?.focus();
    if (found.recipientsList) return (recipientRefs.current[0] ?? addRef.current)?.focus();
    if (found.purpose) return purposeRef.current?.focus();
    if (found.days) return daysRef.current?.focus();
    if (found.maxDownloads) return maxRef.current?.focus();
    if (found.password) return passwordRef.current?.focus();
    if (found.files) return;
    setBusy(true);
    try {
      await onPreview({
        fileIds,
        recipients: filled,
        purpose: purposeText,
        ...(message.trim() ? { message: message.trim() } : {}),
        expiresInDays: dayCount,
        ...(limit !== null ? { maxDownloads: limit } : {}),
        verification,
        ...(verification === 'password' ? { password } : {}),
        lang,
      });
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="send-form-title" className="flex flex-col gap-6">
      <SectionHeading id="send-form-title">{t('exchange.send.formTitle')}</SectionHeading>
      <form noValidate onSubmit={(e) => void submit(e)} className="flex max-w-2xl flex-col gap-8" data-testid="send-form">
        <fieldset className="flex flex-col gap-3" aria-describedby={listHintId} data-testid="recipients">
          <legend className="mb-1 flex flex-wrap items-center gap-x-2 text-std-17B-170 text-solid-gray-900">
            {t('exchange.send.fields.recipients')}
            <span className="text-oln-16N-100 font-normal text-error-2">{t('form.required')}</span>
          </legend>
          <p id={listHintId} className="text-std-16N-170 text-solid-gray-700">
            {t('exchange.send.fields.recipientsHint', { max: SHARE_LIMITS.recipients })}
          </p>
          {errors.recipientsList && <ErrorText>{errors.recipientsList}</ErrorText>}
          <ul className="flex flex-col gap-3">
            {recipients.map((value, i) => (
              <RecipientRow
                key={i}
                index={i}
                value={value}
                error={errors.recipients?.[i]}
                inputRef={(el) => {
                  recipientRefs.current[i] = el;
                }}
                onChange={(v) => setRecipients((list) => list.map((x, j) => (j === i ? v : x)))}
                onRemove={
                  recipients.length > 1
                    ? () => {
                        setRecipients((list) => list.filter((_, j) => j !== i));
                        setErrors((e) => ({ ...e, recipients: {} }));
                        addRef.current?.focus();
                      }
                    : null
                }
              />
            ))}
          </ul>
          {recipients.length < SHARE_LIMITS.recipients && (
            <div>
              <Button
                ref={addRef}
                variant="outline"
                size="md"
                onClick={() => {
                  setRecipients((list) => [...list, '']);
                  setTimeout(() => recipientRefs.current[recipients.length]?.focus(), 0);
                }}
                data-testid="add-recipient"
              >
                {t('exchange.send.addRecipient')}
              </Button>
            </div>
          )}
        </fieldset>
        <TextareaField
          ref={purposeRef}
          label={t('exchange.send.fields.purpose')}
          hint={t('exchange.send.fields.purposeHint', { max: SHARE_LIMITS.purpose })}
          required
          rows={3}
          value={purpose}
          onChange={(e) => setPurpose(e.target.value)}
          error={errors.purpose}
          maxLength={SHARE_LIMITS.purpose}
          name="purpose"
        />
        <TextareaField
          label={
            <>
              {t('exchange.send.fields.message')}
              <span className="text-oln-16N-100 text-solid-gray-700">{t('form.optional')}</span>
            </>
          }
          hint={t('exchange.send.fields.messageHint')}
          rows={4}
          value={message}
          onChange={(e) => setMessage(e.target.value)}
          maxLength={MESSAGE_MAX}
          name="message"
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
          inputRef={daysRef}
          className="max-w-40"
          name="expiresInDays"
        />
        <TextField
          label={
            <>
              {t('exchange.send.fields.maxDownloads')}
              <span className="text-oln-16N-100 text-solid-gray-700">{t('form.optional')}</span>
            </>
          }
          hint={t('exchange.send.fields.maxDownloadsHint')}
          type="number"
          inputMode="numeric"
          min={1}
          max={MAX_DOWNLOADS}
          value={maxDownloads}
          onChange={(e) => setMaxDownloads(e.target.value)}
          error={errors.maxDownloads}
          inputRef={maxRef}
          className="max-w-40"
          name="maxDownloads"
        />
        <RadioGroup<Verification>
          legend={t('exchange.send.fields.verification')}
          name="verification"
          value={verification}
          onChange={setVerification}
          hint={passwordAllowed ? undefined : t('exchange.send.passwordNotAllowed')}
          options={[
            { value: 'code', label: t('exchange.verification.code'), hint: t('exchange.send.codeHint') },
            ...(passwordAllowed
              ? [
                  {
                    value: 'password' as const,
                    label: t('exchange.verification.password'),
                    hint: t('exchange.send.passwordHint'),
                  },
                ]
              : []),
          ]}
          data-testid="verification"
        />
        {verification === 'password' && (
          <PasswordField
            label={t('exchange.send.fields.password')}
            hint={t('exchange.send.fields.passwordHint', { min: LINK_PASSWORD_MIN })}
            autoComplete="new-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            error={errors.password}
            inputRef={passwordRef}
            maxLength={256}
            name="linkPassword"
          />
        )}
        <SelectField
          label={t('exchange.fields.lang')}
          hint={t('exchange.send.fields.langHint')}
          value={lang}
          onChange={(e) => setLang(e.target.value === 'en' ? 'en' : 'ja')}
          options={[
            { value: 'ja', label: t('app.language.ja') },
            { value: 'en', label: t('app.language.en') },
          ]}
          name="lang"
        />
        {errors.files && <ErrorText>{errors.files}</ErrorText>}
        <div>
          <Button type="submit" variant="solid-fill" size="lg" busy={busy} data-testid="send-preview">
            {t('exchange.send.toConfirm')}
          </Button>
        </div>
      </form>
    </section>
  );
}

/**
 * The typed values live in the page, not the form, so 「戻って修正する」 returns to what was typed;
 * they are never kept beyond the page (another send starts empty, so no old address is reused).
 */
function useDraft() {
  const me = useMe();
  const [recipients, setRecipients] = useState<string[]>(['']);
  const [purpose, setPurpose] = useState('');
  const [message, setMessage] = useState('');
  const [days, setDays] = useState(String(Math.min(DEFAULT_EXPIRY_DAYS, expiryLimit(me))));
  const [maxDownloads, setMaxDownloads] = useState('');
  const [verification, setVerification] = useState<Verification>('code');
  const [password, setPassword] = useState('');
  const [lang, setLang] = useState<ExchangeLanguage>(currentLanguage());
  return {
    recipients,
    setRecipients,
    purpose,
    setPurpose,
    message,
    setMessage,
    days,
    setDays,
    maxDownloads,
    setMaxDownloads,
    verification,
    setVerification,
    password,
    setPassword,
    lang,
    setLang,
  };
}
type Draft = ReturnType<typeof useDraft>;

function RecipientRow({
  index,
  value,
  error,
  inputRef,
  onChange,
  onRemove,
}: {
  index: number;
  value: string;
  error: string | undefined;
  inputRef: (el: HTMLInputElement | null) => void;
  onChange: (value: string) => void;
  onRemove: (() => void) | null;
}) {
  const { t } = useTranslation();
  const id = useId();
  const label = t('exchange.send.recipientN', { n: index + 1 });
  return (
    <li className="flex flex-col gap-2" data-testid="recipient-row">
      <label htmlFor={id} className="text-std-16B-170 text-solid-gray-900">
        {label}
      </label>
      <div className="flex flex-wrap items-stretch gap-2">
        <input
          ref={inputRef}
          id={id}
          type="email"
          autoComplete="off"
          spellCheck={false}
          maxLength={254}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          className={`${inputClass} min-w-0 flex-1 basis-72`}
          data-testid="recipient-input"
        />
        {onRemove && (
          <Button variant="outline" size="md" className="min-h-14" onClick={onRemove} data-testid="remove-recipient">
            {t('exchange.send.removeRecipient')}
            <span className="sr-only">（{label}）</span>
          </Button>
        )}
      </div>
      {error && <ErrorText id={`${id}-error`}>{error}</ErrorText>}
    </li>
  );
}

function Confirm({
  input,
  preview,
  onBack,
  onSend,
}: {
  input: ShareInput;
  preview: SharePreview;
  onBack: () => void;
  onSend: () => Promise<void>;
}) {
  const { t } = useTranslation();
  const language = currentLanguage();
  const [checked, setChecked] = useState(false);
  const [checkError, setCheckError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const checkRef = useRef<HTMLInputElement>(null);

  async function send() {
    if (busy) return;
    if (!checked) {
      setCheckError(t('exchange.send.confirmCheckRequired'));
      checkRef.current?.focus();
      return;
    }
    setBusy(true);
    try {
      await onSend();
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="flex flex-col gap-8" data-testid="send-confirm">
      <NotificationBanner
        tone="warning"
        iconLabel={t('icon.warning')}
        title={t('exchange.send.externalWarning', { count: preview.recipients.length, domains: preview.domains.length })}
        data-testid="external-recipients"
      >
        <div className="flex flex-col gap-4">
          <p>{t('exchange.send.externalWarningBody')}</p>
          <div>
            <h3 className="text-std-17B-170 text-solid-gray-900">{t('exchange.send.domainsTitle')}</h3>
            <ul className="mt-2 flex flex-wrap gap-2" data-testid="confirm-domains">
              {preview.domains.map((d) => (
                <li
                  key={d}
                  className="rounded-8 border-2 border-solid-gray-900 bg-yellow-50 px-3 py-1 font-mono text-std-20B-150 break-all text-solid-gray-900"
                  data-domain={d}
                >
                  {d}
                </li>
              ))}
            </ul>
          </div>
          <div>
            <h3 className="text-std-17B-170 text-solid-gray-900">{t('exchange.send.recipientsTitle')}</h3>
            <ul className="mt-2 flex flex-col gap-1" data-testid="confirm-recipients">
              {preview.recipients.map((r) => (
                <li key={r.email} className="text-std-17B-170 break-all text-solid-gray-900" data-email={r.email}>
                  {r.email}
                  <span className="ml-2 text-std-16N-170 text-solid-gray-700">（{r.domain}）</span>
                </li>
              ))}
            </ul>
          </div>
        </div>
      </NotificationBanner>

      <section aria-labelledby="confirm-files" className="flex flex-col gap-3">
        <SectionHeading id="confirm-files">{t('exchange.send.confirmFilesTitle')}</SectionHeading>
        <div className="overflow-x-auto">
          <table className="w-full text-std-16N-170" data-testid="confirm-files-table">
            <caption className="sr-only">{t('exchange.send.confirmFilesTitle')}</caption>
            <thead>
              <tr className={headRowClass}>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('exchange.col.fileName')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('exchange.col.labels')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap text-end`}>
                  {t('files.col.size')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  SHA-256
                </th>
              </tr>
            </thead>
            <tbody>
              {preview.files.map((f) => (
                <tr key={f.fileId} className={rowClass} data-testid="confirm-file" data-name={f.name}>
                  <th scope="row" className={`${thClass} font-normal break-all`}>
                    {f.name}
                  </th>
                  <td className={tdClass}>
                    {f.labels.length ? (
                      <span className="flex flex-wrap gap-1">
                        {f.labels.map((l) => (
                          <Badge key={l} tone="info">
                            {l}
                          </Badge>
                        ))}
                      </span>
                    ) : (
                      t('exchange.send.noLabels')
                    )}
                  </td>
                  <td className={`${tdClass} whitespace-nowrap text-end`}>{formatBytes(f.size, language)}</td>
                  <td className={tdClass}>
                    <ShortSha256 value={f.sha256} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section aria-labelledby="confirm-terms" className="flex flex-col gap-3">
        <SectionHeading id="confirm-terms">{t('exchange.send.confirmTermsTitle')}</SectionHeading>
        <dl className={summaryListClass} data-testid="confirm-terms">
          <dt className={summaryTermClass}>{t('exchange.send.fields.purpose')}</dt>
          <dd className={`${summaryValueClass} whitespace-pre-wrap`}>{input.purpose}</dd>
          {input.message && (
            <>
              <dt className={summaryTermClass}>{t('exchange.send.fields.message')}</dt>
              <dd className={`${summaryValueClass} whitespace-pre-wrap`}>{input.message}</dd>
            </>
          )}
          <dt className={summaryTermClass}>{t('exchange.col.expiresAt')}</dt>
          <dd className={summaryValueClass}>
            <When iso={preview.expiresAt} />
          </dd>
          <dt className={summaryTermClass}>{t('exchange.send.fields.maxDownloads')}</dt>
          <dd className={summaryValueClass}>
            {preview.maxDownloads === null || preview.maxDownloads === undefined
              ? t('exchange.send.unlimited')
              : t('exchange.send.timesPerFile', { count: preview.maxDownloads })}
          </dd>
          <dt className={summaryTermClass}>{t('exchange.send.fields.verification')}</dt>
          <dd className={summaryValueClass}>{t(`exchange.verification.${preview.verification}`)}</dd>
          <dt className={summaryTermClass}>{t('exchange.send.approval')}</dt>
          <dd className={summaryValueClass} data-testid="confirm-approval" data-required={preview.approvalRequired}>
            {preview.approvalRequired ? (
              <div className="flex flex-col gap-1">
                <p className="font-bold">{t('exchange.send.approvalRequired')}</p>
                {preview.approvalReasons.length > 0 && (
                  <p>
                    {t('exchange.send.approvalReasons', {
                      reasons: preview.approvalReasons.map((r) => approvalReasonText(t, r)).join(t('exchange.listSeparator')),
                    })}
                  </p>
                )}
                <p data-testid="confirm-approvers">
                  {preview.approvers.length
                    ? t('exchange.send.approvers', {
                        names: preview.approvers.map((a) => a.name).join(t('exchange.listSeparator')),
                      })
                    : t('exchange.send.noApprovers')}
                </p>
              </div>
            ) : (
              t('exchange.send.approvalNotRequired')
            )}
          </dd>
        </dl>
      </section>

      <Checkbox
        ref={checkRef}
        checked={checked}
        onChange={(e) => {
          setChecked(e.target.checked);
          if (e.target.checked) setCheckError(undefined);
        }}
        error={checkError}
        data-testid="confirm-check"
      >
        {t('exchange.send.confirmCheck', { count: preview.recipients.length })}
      </Checkbox>
      <div className="flex flex-wrap gap-4">
        <Button variant="solid-fill" size="lg" busy={busy} onClick={() => void send()} data-testid="send-submit">
          {preview.approvalRequired ? t('exchange.send.submitForApproval') : t('exchange.send.submit')}
        </Button>
        <Button variant="outline" size="lg" onClick={onBack} data-testid="send-back">
          {t('exchange.send.back')}
        </Button>
      </div>
    </div>
  );
}

function Done({ share }: { share: ShareDto }) {
  const { t } = useTranslation();
  return (
    <div className="flex flex-col gap-6">
      <SuccessBanner
        title={share.state === 'pending' ? t('exchange.send.sentPending') : t('exchange.send.sent')}
        data-testid="send-done"
      >
        <p>{share.state === 'pending' ? t('exchange.send.sentPendingBody') : t('exchange.send.sentBody')}</p>
      </SuccessBanner>
      <p className="text-std-16N-170">
        <a className={linkClass} {...routeLink('/exchange/sent')}>
          {t('exchange.send.toSent')}
        </a>
      </p>
    </div>
  );
}

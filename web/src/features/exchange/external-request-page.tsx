/**
 * `/x/r/<token>`: an outside party sends files to a municipality through a request link (LG-03).
 * No Kura account: the link is the bearer, and a one-time code mailed to the party's address opens
 * a 30-minute session for this link. Then the page shows who asks for what (件名, message, sender,
 * organisation, accepted types and size), takes files by the chooser or drag and drop, uploads each
 * resumably with its own progress bar, and ends with a receipt (受領書) listing every file received
 * with its size, SHA-256 and time, which the party can print or keep.
 *
 * Every dead link (expired, revoked, unknown) shows the same neutral page.
 */
import { useCallback, useEffect, useRef, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorCode } from '../../api/api-client';
import { useDocumentTitle } from '../../app/use-document-title';
import { errorMessageKey } from '../../i18n/error-message';
import { currentLanguage } from '../../i18n/i18n';
import { Badge, type BadgeTone } from '../../ui/badge';
import { Button } from '../../ui/button';
import { headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { ProgressBar } from '../../ui/progress-bar';
import { When } from '../files/file-bits';
import { formatBytes } from '../files/file-format';
import { fetchExtRequest, sendExtRequestCode, verifyExtRequest, type ExtRequest } from './exchange.api';
import { FullSha256, listOf, summaryListClass, summaryTermClass, summaryValueClass, typeLabel } from './exchange-bits';
import { ExternalFrame, InvalidLink, LoadFailed } from './external-frame';
import { useExternalUploads, type ExtUpload, type ExtUploadStatus, type UploadRules } from './external-uploads';
import { ExternalVerify } from './external-verify';
import { acceptFor } from './file-types';

type Load = { kind: 'loading' } | { kind: 'invalid' } | { kind: 'error'; code: string } | { kind: 'ready'; data: ExtRequest };

export function ExternalRequestPage({ token }: { token: string }) {
  const { t } = useTranslation();
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const reload = useCallback(async () => {
    try {
      setLoad({ kind: 'ready', data: await fetchExtRequest(token) });
    } catch (err) {
      const code = errorCode(err);
      setLoad(code === 'exchange.not_found' ? { kind: 'invalid' } : { kind: 'error', code });
    }
  }, [token]);
  useEffect(() => {
    void reload();
  }, [reload]);

  const data = load.kind === 'ready' && load.data.verified ? load.data : null;
  const rules: UploadRules | null = data ? { maxBytes: data.maxBytes, allowedTypes: data.allowedTypes } : null;
  const uploads = useExternalUploads(token, rules, {
    onUploaded: () => void reload(),
    onVerificationLost: () => void reload(),
    onLinkGone: () => setLoad({ kind: 'invalid' }),
  });

  let content;
  if (load.kind === 'invalid') content = <InvalidLink />;
  else if (load.kind === 'error') content = <LoadFailed code={load.code} onRetry={() => void reload()} />;
  else if (load.kind === 'loading') content = <Loading />;
  else if (!load.data.verified)
    content = (
      <ExternalVerify
        kind="code"
        emailHint={load.data.emailHint}
        heading={t('exchange.ext.request.verifyTitle')}
        onSendCode={() => sendExtRequestCode(token)}
        onVerify={async (proof) => {
          if (!('code' in proof)) return;
          await verifyExtRequest(token, proof.code);
          await reload();
        }}
      />
    );
  else content = <RequestView data={load.data} uploads={uploads} />;

  return <ExternalFrame organization={data?.organization ?? null}>{content}</ExternalFrame>;
}

function Loading() {
  const { t } = useTranslation();
  useDocumentTitle(t('app.loading'));
  return (
    <p className="text-std-16N-170" role="status">
      {t('app.loading')}
    </p>
  );
}

type Verified = Extract<ExtRequest, { verified: true }>;

function RequestView({ data, uploads }: { data: Verified; uploads: ReturnType<typeof useExternalUploads> }) {
  const { t } = useTranslation();
  const language = currentLanguage();
  useDocumentTitle(data.title);
  const types = data.allowedTypes.length
    ? listOf(
        t,
        data.allowedTypes.map((c) => typeLabel(t, c)),
      )
    : t('exchange.anyType');
  return (
    <div className="flex flex-col gap-10">
      <div className="flex flex-col gap-4">
        <PageHeading>{data.title}</PageHeading>
        <p className="text-std-16N-170">{t('exchange.ext.request.lead', { organization: data.organization })}</p>
        {data.message && (
          <blockquote
            className="whitespace-pre-wrap break-words rounded-8 border-l-4 border-blue-900 bg-solid-gray-50 px-4 py-3 text-std-16N-170"
            data-testid="request-message"
          >
            {data.message}
          </blockquote>
        )}
        <dl className={summaryListClass} data-testid="request-summary">
          <dt className={summaryTermClass}>{t('exchange.ext.organization')}</dt>
          <dd className={summaryValueClass}>{data.organization}</dd>
          <dt className={summaryTermClass}>{t('exchange.ext.sender')}</dt>
          <dd className={summaryValueClass}>{data.senderName}</dd>
          <dt className={summaryTermClass}>{t('exchange.ext.request.types')}</dt>
          <dd className={summaryValueClass} data-testid="allowed-types">
            {types}
          </dd>
          <dt className={summaryTermClass}>{t('exchange.ext.request.maxSize')}</dt>
          <dd className={summaryValueClass} data-testid="max-size">
            {t('exchange.ext.request.maxSizeValue', { size: formatBytes(data.maxBytes, language) })}
          </dd>
          <dt className={summaryTermClass}>{t('exchange.col.expiresAt')}</dt>
          <dd className={summaryValueClass}>
            <When iso={data.expiresAt} />
          </dd>
        </dl>
      </div>

      <section aria-labelledby="ext-upload" className="flex flex-col gap-4">
        <SectionHeading id="ext-upload">{t('exchange.ext.request.uploadTitle')}</SectionHeading>
        <p className="text-std-16N-170">{t('exchange.ext.request.uploadLead')}</p>
        <DropZone accept={acceptFor(data.allowedTypes)} onFiles={uploads.add} />
        <UploadItems uploads={uploads} data={data} />
      </section>

      <Receipt data={data} />
    </div>
  );
}

/** The chooser (the keyboard route) and a drop area; dropped folders are skipped and said so. */
function DropZone({ accept, onFiles }: { accept: string | undefined; onFiles: (files: File[]) => void }) {
  const { t } = useTranslation();
  const inputRef = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [skipped, setSkipped] = useState(0);
  const depth = useRef(0);

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    depth.current = 0;
    setOver(false);
    const files: File[] = [];
    let folders = 0;
    const items = Array.from(event.dataTransfer.items ?? []);
    if (items.length > 0) {
      for (const item of items) {
        if (item.kind !== 'file') continue;
        const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
        const file = item.getAsFile();
        if (entry?.isDirectory || !file) folders++;
        else files.push(file);
      }
    } else files.push(...Array.from(event.dataTransfer.files));
    setSkipped(folders);
    if (files.length) onFiles(files);
  };

  return (
    <div
      className={`flex flex-col gap-3 rounded-8 border-2 border-dashed p-6 sm:flex-row sm:items-center sm:gap-6 ${
        over ? 'border-blue-900 bg-blue-50' : 'border-solid-gray-420 bg-white'
      }`}
      data-testid="ext-drop-zone"
      data-over={over || undefined}
      onDragEnter={(e) => {
        if (!Array.from(e.dataTransfer.types).includes('Files')) return;
        e.preventDefault();
        depth.current++;
        setOver(true);
      }}
      onDragOver={(e) => {
        if (!Array.from(e.dataTransfer.types).includes('Files')) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = 'copy';
      }}
      onDragLeave={() => {
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setOver(false);
      }}
      onDrop={onDrop}
    >
      <input
        ref={inputRef}
        type="file"
        multiple
        hidden
        accept={accept}
        data-testid="ext-upload-input"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = '';
          setSkipped(0);
          if (files.length) onFiles(files);
        }}
      />
      <Button
        variant="solid-fill"
        size="lg"
        className="shrink-0 whitespace-nowrap"
        onClick={() => inputRef.current?.click()}
        data-testid="ext-upload-button"
      >
        {t('uploads.choose')}
      </Button>
      <p className="text-std-16N-170 text-solid-gray-800">{over ? t('uploads.dropActive') : t('uploads.drop')}</p>
      {skipped > 0 && (
        <p className="text-std-16N-170 text-error-2" role="status">
          {t('uploads.folderSkipped', { count: skipped })}
        </p>
      )}
    </div>
  );
}

const statusTone: Record<ExtUploadStatus, BadgeTone> = {
  refused: 'error',
  queued: 'neutral',
  uploading: 'info',
  retrying: 'warning',
  done: 'success',
  failed: 'error',
};

function UploadItems({ uploads, data }: { uploads: ReturnType<typeof useExternalUploads>; data: Verified }) {
  const { t } = useTranslation();
  if (uploads.items.length === 0) return null;
  const active = uploads.items.filter((i) => i.status === 'uploading' || i.status === 'retrying' || i.status === 'queued').length;
  return (
    <div className="flex flex-col gap-3" data-testid="ext-uploads">
      <p className="sr-only" aria-live="polite">
        {active > 0 ? t('exchange.ext.request.uploadingCount', { count: active }) : t('exchange.ext.request.allFinished')}
      </p>
      <ul className="flex flex-col gap-3">
        {uploads.items.map((item) => (
          <UploadRow key={item.key} item={item} data={data} uploads={uploads} />
        ))}
      </ul>
    </div>
  );
}

function UploadRow({ item, data, uploads }: { item: ExtUpload; data: Verified; uploads: ReturnType<typeof useExternalUploads> }) {
  const { t } = useTranslation();
  const language = currentLanguage();
  const done = item.status === 'done';
  const percent = item.size === 0 ? (done ? 100 : 0) : ((done ? item.size : item.sent) / item.size) * 100;
  const detail = t('uploads.progressText', {
    percent: Math.floor(percent),
    sent: formatBytes(done ? item.size : item.sent, language),
    total: formatBytes(item.size, language),
  });
  return (
    <li
      className="flex flex-col gap-2 rounded-8 border border-solid-gray-420 bg-white p-4"
      data-testid="ext-upload-item"
      data-name={item.name}
      data-status={item.status}
    >
      <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2">
        <p className="min-w-0 break-all text-std-16B-170 text-solid-gray-900">{item.name}</p>
        <Badge tone={statusTone[item.status]} data-testid="ext-upload-status">
          {t(`exchange.ext.uploadStates.${item.status}`)}
        </Badge>
      </div>
      {item.status !== 'refused' && (
        <>
          <ProgressBar
            value={percent}
            label={t('uploads.progressLabel', { name: item.name })}
            valueText={detail}
            tone={item.status === 'failed' ? 'error' : done ? 'success' : 'progress'}
            data-testid="ext-upload-progress"
          />
          <p className="text-dns-14N-130 text-solid-gray-800">{detail}</p>
        </>
      )}
      {item.status === 'retrying' && (
        <p className="text-std-16N-170" role="status">
          {t('uploads.retrying')}
        </p>
      )}
      {done && (
        <p className="text-std-16N-170" role="status">
          {t('exchange.ext.request.uploaded')}
          {item.sha256 && (
            <span className="mt-1 block font-mono text-dns-14N-130 break-all" data-testid="ext-upload-sha256">
              SHA-256: {item.sha256}
            </span>
          )}
        </p>
      )}
      {(item.status === 'refused' || item.status === 'failed') && item.errorCode && <RefusalText item={item} data={data} />}
      <div className="flex flex-wrap gap-3">
        {item.status === 'failed' && isResumable(item.errorCode) && (
          <Button variant="solid-fill" size="md" onClick={() => uploads.resume(item.key)}>
            {t('uploads.resume')}
            <span className="sr-only">（{item.name}）</span>
          </Button>
        )}
        {item.status !== 'done' && (
          <Button variant="outline" size="md" onClick={() => uploads.remove(item.key)}>
            {item.status === 'refused' || item.status === 'failed' ? t('uploads.dismiss') : t('form.cancel')}
            <span className="sr-only">（{item.name}）</span>
          </Button>
        )}
      </div>
    </li>
  );
}

/** Refusals that another try cannot fix (size, type, dead link) offer no 再開. */
function isResumable(code: string | null): boolean {
  return !['exchange.too_large', 'exchange.type_not_allowed', 'exchange.not_found', 'request.too_large'].includes(code ?? '');
}

function RefusalText({ item, data }: { item: ExtUpload; data: Verified }) {
  const { t } = useTranslation();
  const language = currentLanguage();
  const code = item.errorCode!;
  let reason: string;
  if (code === 'exchange.too_large') {
    reason = t('exchange.ext.request.tooLarge', { max: formatBytes(data.maxBytes, language) });
  } else if (code === 'exchange.type_not_allowed') {
    const allowed = data.allowedTypes.length
      ? listOf(
          t,
          data.allowedTypes.map((c) => typeLabel(t, c)),
        )
      : t('exchange.anyType');
    reason = item.category
      ? t('exchange.ext.request.typeNotAllowed', { type: typeLabel(t, item.category), allowed })
      : t('exchange.ext.request.typeNotAllowedGeneric', { allowed });
  } else reason = t(errorMessageKey(code));
  return (
    <p className="text-std-16N-170 text-error-2" role="alert" data-testid="ext-upload-error" data-code={code}>
      {reason}
    </p>
  );
}

/** 受領書: what the organisation has received through this link, as the server recorded it. */
function Receipt({ data }: { data: Verified }) {
  const { t } = useTranslation();
  const language = currentLanguage();
  return (
    <section aria-labelledby="ext-receipt" className="flex flex-col gap-4" data-testid="ext-receipt">
      <SectionHeading id="ext-receipt">{t('exchange.ext.request.receiptTitle')}</SectionHeading>
      {data.files.length === 0 ? (
        <p className="text-std-16N-170">{t('exchange.ext.request.receiptNone')}</p>
      ) : (
        <>
          <p className="text-std-16N-170">
            {t('exchange.ext.request.receiptLead', { organization: data.organization, count: data.files.length })}
          </p>
          <div className="overflow-x-auto">
            <table className="w-full text-std-16N-170" data-testid="receipt-table">
              <caption className="sr-only">{t('exchange.ext.request.receiptCaption', { title: data.title })}</caption>
              <thead>
                <tr className={headRowClass}>
                  <th scope="col" className={`${thClass} whitespace-nowrap`}>
                    {t('exchange.col.fileName')}
                  </th>
                  <th scope="col" className={`${thClass} whitespace-nowrap text-end`}>
                    {t('files.col.size')}
                  </th>
                  <th scope="col" className={`${thClass} whitespace-nowrap`}>
                    SHA-256
                  </th>
                  <th scope="col" className={`${thClass} whitespace-nowrap`}>
                    {t('exchange.ext.request.receivedAt')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.files.map((f, i) => (
                  <tr key={`${f.sha256}-${i}`} className={rowClass} data-testid="receipt-row" data-name={f.name}>
                    <th scope="row" className={`${thClass} font-normal break-all`}>
                      {f.name}
                    </th>
                    <td className={`${tdClass} whitespace-nowrap text-end`}>{formatBytes(f.size, language)}</td>
                    <td className={tdClass}>
                      <FullSha256 value={f.sha256} />
                    </td>
                    <td className={tdClass}>
                      <When iso={f.uploadedAt} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="text-std-16N-170">{t('exchange.ext.sha256Hint')}</p>
          <div className="print:hidden">
            <Button variant="outline" size="md" onClick={() => window.print()} data-testid="print-receipt">
              {t('exchange.ext.request.print')}
            </Button>
          </div>
        </>
      )}
    </section>
  );
}

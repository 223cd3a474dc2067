/**
 * One file (`/files/:id`): where it is, its state, and every version with its size, uploader, time,
 * virus scan result with the engine's version (MAL-01) and SHA-256 (TLS-02: whoever downloads can
 * compare the digest of what they received with the one recorded at upload). Editors upload a new
 * version here; each available version can be downloaded, unless the administrator switched
 * downloads off for the zone of this session.
 *
 * Malware measures: why a version is held or blocked (MAL-03/05/06); the 無害化 of internet-origin
 * versions, which is what the LGWAN zone receives, with what was removed and both SHA-256 values
 * (MAL-07); on LGWAN, a request for the original and its download once approved (MAL-08); and the
 * awareness warnings with the tenant's guidance (MAL-10).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { downloadFile, errorCode } from '../../api/api-client';
import { routeLink } from '../../app/router';
import { useDocumentTitle } from '../../app/use-document-title';
import { currentLanguage } from '../../i18n/i18n';
import { Breadcrumbs } from '../../ui/breadcrumbs';
import { Button } from '../../ui/button';
import { headRowClass, rowClass, tdClass, thClass } from '../../ui/confirm-dialog';
import { linkClass } from '../../ui/link';
import { ErrorBanner, SuccessBanner } from '../../ui/messages';
import { NotificationBanner } from '../../ui/notification-banner';
import { PageHeading, SectionHeading } from '../../ui/page-heading';
import { featureOn } from '../identity/identity.api';
import { useMe } from '../identity/session';
import { deliverable, FileWarnings, holdReasonText, SanitizeBlock, useGuidance } from '../malware/malware-bits';
import { ReasonDialog } from '../malware/reason-dialog';
import { LabelBadges, LabelDialog, PiiNotice } from '../labels/label-bits';
import { DownloadsOffNote, VersionBadge, When } from './file-bits';
import { formatBytes } from './file-format';
import { contentUrl, fetchFile, originalUrl, requestOriginal, type FileDetail, type Sanitize, type Version } from './files.api';
import { UploadList } from './upload-panel';
import { SCAN_POLL_MS, SCAN_WAIT_MS, useUploads } from './uploads';

const downloadClass =
  'inline-flex min-h-11 items-center whitespace-nowrap rounded-8 border border-current bg-white px-3 text-oln-16B-100 text-blue-900 ' +
  'hover:bg-blue-200 hover:underline focus-visible:outline-4 focus-visible:outline-black ' +
  'focus-visible:outline-offset-[calc(2/16*1rem)] focus-visible:ring-[calc(2/16*1rem)] focus-visible:ring-yellow-300';

const hasSanitize = (v: Version): v is Version & { sanitize: Sanitize } => v.sanitize !== null;

export function FileDetailPage({ fileId }: { fileId: string }) {
  const { t } = useTranslation();
  const language = currentLanguage();
  const uploads = useUploads();
  const me = useMe();
  const zone = me.session.zone;
  const downloads = featureOn(me, 'downloads');
  const guidance = useGuidance();
  const [file, setFile] = useState<FileDetail | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [requesting, setRequesting] = useState<Version | null>(null);
  const [outcome, setOutcome] = useState<
    { kind: 'requested'; n: number } | { kind: 'error'; title: string; code: string; n: number } | null
  >(null);
  const [fetchingOriginal, setFetchingOriginal] = useState<number | null>(null);
  const [labeling, setLabeling] = useState(false);
  const [labelsSaved, setLabelsSaved] = useState<{ text: string; n: number } | null>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const heldWatch = useRef(Date.now());
  useDocumentTitle(file?.name ?? t('fileDetail.title'));

  const load = useCallback(async () => {
    try {
      setFile(await fetchFile(fileId));
      setFailure(null);
    } catch (err) {
      setFailure(errorCode(err));
    }
  }, [fileId]);

  useEffect(() => {
    heldWatch.current = Date.now();
    void load();
  }, [load, uploads.revision]);

  // Waiting for the scan (a held version with a reason waits for an administrator instead) or for 無害化.
  const held = file?.latest.state === 'held' && !file.latest.holdReason;
  const sanitising = file?.versions.some((v) => v.sanitize?.state === 'pending') ?? false;
  // PII-02: the personal-data check runs right after the scan; its suggestion appears when it is done.
  const piiPending = file?.pii.state === 'pending';
  const watched = uploads.items.some((i) => i.status === 'held' && !i.scanSlow && i.fileId === fileId);
  useEffect(() => {
    if (!(held || sanitising || piiPending) || (held && watched) || Date.now() - heldWatch.current > SCAN_WAIT_MS) return;
    const timer = setTimeout(() => void load(), SCAN_POLL_MS);
    return () => clearTimeout(timer);
  }, [held, sanitising, piiPending, watched, file, load]);

  async function askForOriginal(reason: string) {
    if (!requesting) return;
    await requestOriginal(fileId, requesting.version, reason);
    setRequesting(null);
    setOutcome((o) => ({ kind: 'requested', n: (o?.n ?? 0) + 1 }));
  }

  async function downloadOriginal(v: Version) {
    if (fetchingOriginal !== null || !file) return;
    setFetchingOriginal(v.version);
    try {
      await downloadFile(originalUrl(file.id, v.version), file.name);
    } catch (err) {
      setOutcome((o) => ({ kind: 'error', title: t('malware.original.errorTitle'), code: errorCode(err), n: (o?.n ?? 0) + 1 }));
    } finally {
      setFetchingOriginal(null);
    }
  }

  if (!file) {
    return (
      <div className="flex flex-col gap-6">
        <PageHeading>{t('fileDetail.title')}</PageHeading>
        {failure ? <ErrorBanner title={t('app.loadErrorTitle')} code={failure} focus={false} /> : <p>{t('app.loading')}</p>}
      </div>
    );
  }

  // From the highest folder the user may open (the server leaves out the ones above it).
  const path = file.path;
  const folder = file.path.at(-1)!;
  const canUpload = file.role === 'editor' || file.role === 'manager';
  const versions = [...file.versions].sort((a, b) => b.version - a.version);
  const latest = file.latest;
  const availableVersion = versions.find((v) => v.version === file.availableVersion) ?? null;
  const sanitized = versions.filter(hasSanitize);
  /** On LGWAN an internet-origin download is the 無害化 rebuild: the link says so. */
  const rebuilt = (v: Version) => zone === 'lgwan' && v.originZone === 'internet' && v.sanitize !== null;
  const offersOriginal = (v: Version) => zone === 'lgwan' && v.originZone === 'internet' && v.state === 'available';

  return (
    <div className="flex flex-col gap-8">
      <Breadcrumbs
        label={t('files.breadcrumbs')}
        items={[
          { label: t('files.rootsTitle'), path: '/files' },
          ...path.map((p) => ({ label: p.name, path: `/folders/${p.id}` })),
          { label: file.name },
        ]}
      />
      <div className="flex flex-col gap-4">
        <PageHeading>{file.name}</PageHeading>
        <dl
          className="grid grid-cols-1 gap-x-6 gap-y-1 text-std-16N-170 sm:grid-cols-[max-content_1fr] sm:gap-y-3"
          data-testid="file-summary"
        >
          <dt className="font-bold text-solid-gray-900">{t('files.col.state')}</dt>
          <dd className="mb-3 sm:mb-0">
            <VersionBadge state={latest.state} holdReason={latest.holdReason} />
          </dd>
          <dt className="font-bold text-solid-gray-900">{t('labels.title')}</dt>
          <dd className="mb-3 sm:mb-0" data-testid="file-labels">
            <LabelBadges labels={file.labels} />
            {file.labels.inherited.length > 0 && (
              <span className="mt-1 block text-dns-14N-130 text-solid-gray-700">
                {t('labels.inheritedList', { labels: file.labels.inherited.join('、') })}
              </span>
            )}
          </dd>
          <dt className="font-bold text-solid-gray-900">{t('malware.originZone')}</dt>
          <dd className="mb-3 sm:mb-0" data-testid="origin-zone">
            {latest.originZone === 'lgwan' || latest.originZone === 'internet'
              ? t(`status.zone.${latest.originZone}`)
              : latest.originZone}
          </dd>
          <dt className="font-bold text-solid-gray-900">{t('files.col.size')}</dt>
          <dd className="mb-3 sm:mb-0">{formatBytes(file.latest.size, language)}</dd>
          <dt className="font-bold text-solid-gray-900">{t('fileDetail.latest')}</dt>
          <dd className="mb-3 sm:mb-0">{t('fileDetail.versionN', { n: file.latest.version })}</dd>
          <dt className="font-bold text-solid-gray-900">{t('fileDetail.location')}</dt>
          <dd className="mb-3 sm:mb-0">
            <a className={linkClass} {...routeLink(`/folders/${folder.id}`)}>
              {folder.name}
            </a>
          </dd>
          <dt className="font-bold text-solid-gray-900">{t('files.col.updatedAt')}</dt>
          <dd>
            <When iso={file.updatedAt} />
          </dd>
        </dl>
      </div>
      {failure && <ErrorBanner title={t('app.loadErrorTitle')} code={failure} focus={false} />}
      {latest.state === 'quarantined' && (
        <ErrorBanner title={t('fileDetail.quarantinedTitle')} focus={false} data-testid="quarantined">
          <p>{t('fileDetail.quarantinedBody')}</p>
        </ErrorBanner>
      )}
      {latest.state === 'blocked' && (
        <ErrorBanner title={t('malware.detail.blockedTitle')} focus={false} data-testid="blocked">
          <p>{t('malware.detail.blockedBody', { reason: holdReasonText(t, { ...latest, signature: latest.scan.signature }) })}</p>
        </ErrorBanner>
      )}
      {latest.state === 'held' && latest.holdReason && (
        <NotificationBanner
          tone="warning"
          iconLabel={t('icon.warning')}
          title={t('malware.detail.reviewTitle')}
          data-testid="held-for-review"
        >
          <p>{t('malware.detail.reviewBody', { reason: holdReasonText(t, { ...latest, signature: latest.scan.signature }) })}</p>
        </NotificationBanner>
      )}
      <FileWarnings name={file.name} latest={latest} guidance={guidance?.guidance ?? ''} />
      {labelsSaved && <SuccessBanner key={labelsSaved.n} title={labelsSaved.text} data-testid="labels-saved" />}
      <PiiNotice
        file={file}
        canEdit={canUpload}
        onApplied={(labels) => {
          setLabelsSaved((o) => ({ text: t('labels.pii.applied', { labels: labels.join('」「') }), n: (o?.n ?? 0) + 1 }));
          void load();
        }}
      />
      {outcome?.kind === 'requested' && (
        <SuccessBanner key={outcome.n} title={t('malware.original.requested')} data-testid="original-requested">
          <p>{t('malware.original.requestedBody')}</p>
        </SuccessBanner>
      )}
      {outcome?.kind === 'error' && (
        <ErrorBanner key={outcome.n} title={outcome.title} code={outcome.code} data-testid="file-detail-error" />
      )}
      <div className="flex flex-wrap gap-3">
        {downloads && availableVersion && deliverable(availableVersion, zone) && (
          <a href={contentUrl(file.id)} download className={downloadClass} data-testid="download-latest">
            {availableVersion.version === latest.version
              ? rebuilt(availableVersion)
                ? t('malware.downloadSanitised')
                : t('files.download')
              : t('fileDetail.downloadVersion', { n: availableVersion.version })}
          </a>
        )}
        {featureOn(me, 'external_sharing') && me.user.role !== 'guest' && me.user.role !== 'auditor' && availableVersion && (
          <a {...routeLink(`/exchange/send?files=${file.id}`)} className={downloadClass} data-testid="send-external">
            {t('exchange.send.action')}
          </a>
        )}
        {canUpload && (
          <>
            <input
              ref={inputRef}
              type="file"
              hidden
              data-testid="version-input"
              onChange={(e) => {
                const picked = e.target.files?.[0];
                e.target.value = '';
                if (picked) uploads.add([picked], folder, file.id);
              }}
            />
            <Button variant="outline" size="md" onClick={() => inputRef.current?.click()} data-testid="new-version-button">
              {t('fileDetail.uploadVersion')}
            </Button>
            <Button variant="outline" size="md" onClick={() => setLabeling(true)} data-testid="labels-button">
              {t('labels.edit')}
            </Button>
          </>
        )}
      </div>
      {!downloads && <DownloadsOffNote />}
      <UploadList current={folder} only={(i) => i.targetFileId === file.id || i.fileId === file.id} />

      {sanitized.length > 0 && (
        <section aria-labelledby="sanitize-title" className="flex flex-col gap-4" data-testid="sanitize-section">
          <SectionHeading id="sanitize-title">{t('malware.sanitize.title')}</SectionHeading>
          <p className="text-std-16N-170">{t('malware.sanitize.lead')}</p>
          {sanitized.map((v) => (
            <SanitizeBlock key={v.id} version={v} zone={zone} />
          ))}
        </section>
      )}

      <section aria-labelledby="versions-title" className="flex flex-col gap-4">
        <SectionHeading id="versions-title">{t('fileDetail.versionsTitle')}</SectionHeading>
        <p className="text-std-16N-170">{t('fileDetail.sha256Hint')}</p>
        <div className="overflow-x-auto">
          <table className="w-full text-std-16N-170" data-testid="versions-table">
            <caption className="sr-only">{t('fileDetail.caption', { name: file.name })}</caption>
            <thead>
              <tr className={headRowClass}>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('files.col.version')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('files.col.state')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap text-end`}>
                  {t('files.col.size')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('fileDetail.uploaded')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('fileDetail.scan')}
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  SHA-256
                </th>
                <th scope="col" className={`${thClass} whitespace-nowrap`}>
                  {t('files.col.actions')}
                </th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.id} className={rowClass} data-testid="version-row" data-version={v.version} data-state={v.state}>
                  <th scope="row" className={`${thClass} whitespace-nowrap font-normal`}>
                    {t('fileDetail.versionN', { n: v.version })}
                  </th>
                  <td className={tdClass}>
                    <VersionBadge state={v.state} holdReason={v.holdReason} />
                    {v.state !== 'available' && (v.holdReason || v.state === 'quarantined') && (
                      <span className="mt-1 block text-dns-14N-130 text-solid-gray-800" data-testid="hold-reason">
                        {holdReasonText(t, { ...v, signature: v.scan.signature })}
                      </span>
                    )}
                  </td>
                  <td className={`${tdClass} whitespace-nowrap text-end`}>{formatBytes(v.size, language)}</td>
                  <td className={tdClass}>
                    <span className="block">{v.uploadedByName ?? '—'}</span>
                    <span className="block text-dns-14N-130 text-solid-gray-700">
                      <When iso={v.createdAt} />
                    </span>
                  </td>
                  <td className={tdClass} data-testid="version-scan">
                    <ScanResult version={v} />
                  </td>
                  <td className={tdClass}>
                    <code className="block max-w-[18rem] font-mono text-dns-14N-130 break-all" data-testid="version-sha256">
                      {v.sha256}
                    </code>
                  </td>
                  <td className={tdClass}>
                    <div className="flex flex-col items-start gap-2">
                      {downloads && deliverable(v, zone) && (
                        <a
                          href={contentUrl(file.id, v.version)}
                          download
                          className={downloadClass}
                          data-testid="download-version"
                        >
                          {rebuilt(v) ? t('malware.downloadSanitised') : t('files.download')}
                          <span className="sr-only">（{t('fileDetail.versionN', { n: v.version })}）</span>
                        </a>
                      )}
                      {offersOriginal(v) && (
                        <>
                          <Button variant="outline" size="md" onClick={() => setRequesting(v)} data-testid="request-original">
                            {t('malware.original.request')}
                            <span className="sr-only">（{t('fileDetail.versionN', { n: v.version })}）</span>
                          </Button>
                          {downloads && (
                            <Button
                              variant="outline"
                              size="md"
                              busy={fetchingOriginal === v.version}
                              onClick={() => void downloadOriginal(v)}
                              data-testid="download-original"
                            >
                              {t('malware.original.download')}
                              <span className="sr-only">（{t('fileDetail.versionN', { n: v.version })}）</span>
                            </Button>
                          )}
                        </>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {versions.some(offersOriginal) && <p className="text-std-16N-170">{t('malware.original.hint')}</p>}
      </section>
      <ReasonDialog
        open={requesting !== null}
        title={requesting ? t('malware.original.requestTitle', { n: requesting.version }) : ''}
        lead={<p>{t('malware.original.requestLead')}</p>}
        label={t('malware.original.reason')}
        hint={t('malware.reason.hint')}
        submitLabel={t('malware.original.submit')}
        errorTitle={t('malware.original.requestErrorTitle')}
        onSubmit={askForOriginal}
        onCancel={() => setRequesting(null)}
        data-testid="original-request-dialog"
      />
      <LabelDialog
        target={labeling ? { kind: 'file', id: file.id, name: file.name, labels: file.labels } : null}
        onCancel={() => setLabeling(false)}
        onDone={() => {
          setLabeling(false);
          setLabelsSaved((o) => ({ text: t('labels.saved'), n: (o?.n ?? 0) + 1 }));
          void load();
        }}
      />
    </div>
  );
}

function ScanResult({ version: v }: { version: Version }) {
  const { t } = useTranslation();
  const result =
    v.scan.result === 'clean'
      ? t('fileDetail.scanResult.clean')
      : v.scan.result === 'infected'
        ? t('fileDetail.scanResult.infected', { signature: v.scan.signature ?? '—' })
        : v.scan.attempts > 0
          ? t('fileDetail.scanResult.error', { count: v.scan.attempts })
          : t('fileDetail.scanResult.pending');
  const engine = [v.scan.engine, v.scan.engineVersion].filter(Boolean).join(' ');
  return (
    <>
      <span className="block">{result}</span>
      {engine && <span className="block text-dns-14N-130 text-solid-gray-700 break-all">{engine}</span>}
      {v.scan.at && (
        <span className="block text-dns-14N-130 text-solid-gray-700">
          <When iso={v.scan.at} />
        </span>
      )}
    </>
  );
}

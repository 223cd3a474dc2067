/**
 * Upload controls of a folder: a button that opens the file chooser (the keyboard route), a drop
 * area for drag-and-drop, and the list of uploads with a progress bar, speed and time left, and
 * the state of each file in words (アップロード中 / 完了 / ウイルス検査待ち / 失敗 — 再開).
 */
import { useRef, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessageKey } from '../../i18n/error-message';
import { currentLanguage } from '../../i18n/i18n';
import { Badge, type BadgeTone } from '../../ui/badge';
import { Button } from '../../ui/button';
import { ProgressBar } from '../../ui/progress-bar';
import { formatBytes, formatDuration } from './file-format';
import type { FolderRef } from './files.api';
import { useUploads, type UploadItem, type UploadStatus } from './uploads';

/** Files of a drop, without folders (a dropped folder arrives as an unreadable pseudo-file). */
function droppedFiles(event: DragEvent): { files: File[]; skipped: number } {
  const dt = event.dataTransfer;
  const files: File[] = [];
  let skipped = 0;
  const items = Array.from(dt.items ?? []);
  if (items.length > 0) {
    for (const item of items) {
      if (item.kind !== 'file') continue;
      const entry = typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null;
      const file = item.getAsFile();
      if (entry?.isDirectory || !file) skipped++;
      else files.push(file);
    }
    return { files, skipped };
  }
  return { files: Array.from(dt.files), skipped };
}

/** The choose button and the drop area for uploading into `folder`. */
export function UploadControls({ folder }: { folder: FolderRef }) {
  const { t } = useTranslation();
  const { add } = useUploads();
  const inputRef = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [skipped, setSkipped] = useState(0);
  const depth = useRef(0);

  const onDrop = (event: DragEvent<HTMLDivElement>) => {
    event.preventDefault();
    depth.current = 0;
    setOver(false);
    const { files, skipped: folders } = droppedFiles(event);
    setSkipped(folders);
    if (files.length) add(files, folder);
  };

  return (
    <div
      className={`flex flex-col gap-3 rounded-8 border-2 border-dashed p-4 sm:flex-row sm:items-center sm:gap-6 ${
        over ? 'border-blue-900 bg-blue-50' : 'border-solid-gray-420 bg-white'
      }`}
      data-testid="drop-zone"
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
        data-testid="upload-input"
        onChange={(e) => {
          const files = Array.from(e.target.files ?? []);
          e.target.value = '';
          setSkipped(0);
          if (files.length) add(files, folder);
        }}
      />
      <Button
        variant="solid-fill"
        size="md"
        className="shrink-0 whitespace-nowrap"
        onClick={() => inputRef.current?.click()}
        data-testid="upload-button"
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

const tone: Record<UploadStatus, BadgeTone> = {
  queued: 'neutral',
  uploading: 'info',
  retrying: 'warning',
  conflict: 'warning',
  failed: 'error',
  held: 'warning',
  available: 'success',
  quarantined: 'error',
  blocked: 'error',
  review: 'warning',
  damaged: 'error',
};

/** The uploads of this browser tab (any folder, or those `only` keeps); `current` is the folder on screen. */
export function UploadList({ current, only }: { current: FolderRef | null; only?: (item: UploadItem) => boolean }) {
  const { t } = useTranslation();
  const uploads = useUploads();
  const { clearFinished } = uploads;
  const items = only ? uploads.items.filter(only) : uploads.items;
  if (items.length === 0) return null;
  const finished = items.some(
    (i) => ['available', 'quarantined', 'blocked', 'review', 'damaged'].includes(i.status) || i.scanSlow,
  );
  return (
    <section aria-labelledby="uploads-title" className="flex flex-col gap-3" data-testid="uploads">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 id="uploads-title" className="text-std-20B-150 text-solid-gray-900">
          {t('uploads.title')}
        </h2>
        {finished && (
          <Button variant="outline" size="md" onClick={clearFinished}>
            {t('uploads.clearFinished')}
          </Button>
        )}
      </div>
      <ul className="flex flex-col gap-3">
        {items.map((item) => (
          <UploadRow key={item.key} item={item} showFolder={current?.id !== item.folder.id} />
        ))}
      </ul>
    </section>
  );
}

function UploadRow({ item, showFolder }: { item: UploadItem; showFolder: boolean }) {
  const { t } = useTranslation();
  const language = currentLanguage();
  const { resume, keepBoth, cancel, dismiss } = useUploads();
  const done = item.status !== 'queued' && item.status !== 'uploading' && item.status !== 'retrying' && item.status !== 'failed';
  const sent = done && item.status !== 'conflict' ? item.size : item.sent;
  const percent = item.size === 0 ? (done ? 100 : 0) : (sent / item.size) * 100;
  const remaining = item.rate && item.rate > 0 ? (item.size - item.sent) / item.rate : null;
  const label = t('uploads.progressLabel', { name: item.name });
  const detail = t('uploads.progressText', {
    percent: Math.floor(percent),
    sent: formatBytes(sent, language),
    total: formatBytes(item.size, language),
  });
  return (
    <li
      className="flex flex-col gap-2 rounded-8 border border-solid-gray-420 bg-white p-4"
      data-testid="upload-item"
      data-name={item.name}
      data-status={item.status}
      data-file-id={item.fileId ?? undefined}
    >
      <div className="flex flex-wrap items-center justify-between gap-x-4 gap-y-2">
        <p className="min-w-0 break-all text-std-16B-170 text-solid-gray-900">
          {item.name}
          {item.targetFileId && <span className="ml-2 text-std-16N-170 text-solid-gray-700">{t('uploads.asNewVersion')}</span>}
        </p>
        <Badge tone={tone[item.status]} data-testid="upload-status">
          {t(`uploads.states.${item.status}`)}
        </Badge>
      </div>
      {showFolder && (
        <p className="text-dns-14N-130 text-solid-gray-700">{t('uploads.destination', { folder: item.folder.name })}</p>
      )}
      <ProgressBar
        value={percent}
        label={label}
        valueText={detail}
        tone={
          item.status === 'failed' || item.status === 'quarantined' || item.status === 'blocked' || item.status === 'damaged'
            ? 'error'
            : done
              ? 'success'
              : 'progress'
        }
        data-testid="upload-progress"
      />
      <p className="flex flex-wrap gap-x-4 text-dns-14N-130 text-solid-gray-800">
        <span>{detail}</span>
        {item.status === 'uploading' && remaining !== null && item.rate !== null && (
          <span data-testid="upload-speed">
            {t('uploads.speed', { rate: formatBytes(item.rate, language), remaining: formatDuration(remaining) })}
          </span>
        )}
      </p>
      {item.status === 'retrying' && (
        <p className="text-std-16N-170" role="status">
          {t('uploads.retrying')}
        </p>
      )}
      {item.status === 'held' && (
        <p className="text-std-16N-170" role="status">
          {item.scanSlow ? t('uploads.scanSlow') : t('uploads.scanning')}
        </p>
      )}
      {item.status === 'quarantined' && (
        <p className="text-std-16N-170 text-error-2" role="alert">
          {t('uploads.quarantinedBody')}
        </p>
      )}
      {item.status === 'blocked' && (
        <p className="text-std-16N-170 text-error-2" role="alert">
          {t('uploads.blockedBody')}
        </p>
      )}
      {item.status === 'review' && (
        <p className="text-std-16N-170" role="status">
          {t('uploads.reviewBody')}
        </p>
      )}
      {item.status === 'failed' && item.errorCode && (
        <p className="text-std-16N-170 text-error-2" role="alert" data-testid="upload-error" data-code={item.errorCode}>
          {t(errorMessageKey(item.errorCode))}
        </p>
      )}
      {item.status === 'conflict' && (
        <p className="text-std-16N-170" role="alert">
          {t('uploads.conflictBody', { name: item.name })}
        </p>
      )}
      <div className="flex flex-wrap gap-3">
        {item.status === 'failed' && (
          <Button variant="solid-fill" size="md" onClick={() => resume(item.key)}>
            {t('uploads.resume')}
            <span className="sr-only">（{item.name}）</span>
          </Button>
        )}
        {item.status === 'conflict' && (
          <Button variant="solid-fill" size="md" onClick={() => keepBoth(item.key)}>
            {t('uploads.keepBoth')}
            <span className="sr-only">（{item.name}）</span>
          </Button>
        )}
        {['queued', 'uploading', 'retrying', 'failed', 'conflict'].includes(item.status) && (
          <Button variant="outline" size="md" onClick={() => cancel(item.key)}>
            {t('form.cancel')}
            <span className="sr-only">（{item.name}）</span>
          </Button>
        )}
        {(['available', 'quarantined', 'blocked', 'review', 'damaged'].includes(item.status) || item.scanSlow) && (
          <Button variant="outline" size="md" onClick={() => dismiss(item.key)}>
            {t('uploads.dismiss')}
            <span className="sr-only">（{item.name}）</span>
          </Button>
        )}
      </div>
    </li>
  );
}

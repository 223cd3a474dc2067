/**
 * Uploads in the browser through Kura's tus 1.0 endpoint (tus-js-client): each file goes in 8 MiB
 * chunks, and a dropped connection or a restarting server is retried automatically from the offset
 * the server reports (retry delays below); when the retries run out the upload is 「失敗」 with a
 * 再開 button that continues from the same place. A 409 `name.taken` at creation offers 「両方残す」
 * (the server picks 「名前 (2).ext」) or キャンセル.
 *
 * After the last byte the file is held for the virus scan (MAL-01): the folder is polled until its
 * state leaves `held`, so the badge changes from 「ウイルス検査待ち」 to 「完了」 (or 隔離済み, ブロック); a
 * file the scan gate keeps held with a reason (type mismatch, encrypted, …) waits for an
 * administrator: 「保留（管理者の確認待ち）」, and polling stops.
 *
 * The state lives above the pages, so moving between folders does not lose uploads in progress;
 * leaving the page while one runs asks for confirmation. Upload URLs are kept in memory only
 * (no localStorage), like the CSRF token.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import * as tus from 'tus-js-client';
import { currentCsrfToken, errorOf, reportErrorCode } from '../../api/api-client';
import { useSession } from '../identity/session';
import { fetchFile, fetchFolder, type FileItem, type FolderRef, type OnConflict } from './files.api';

/** Chunk size: a multiple of the server's 64 KiB sealing segment, so every PATCH ends on a durable offset. */
export const CHUNK_BYTES = 8 * 1024 * 1024;
/** Waits between automatic retries after a failed request; the count is how long an outage is ridden out (~19 s). */
export const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10000];
/** How many files upload at once; the rest wait 「待機中」. */
const PARALLEL_UPLOADS = 3;
/** How often and how long a held file is checked for its scan result. */
export const SCAN_POLL_MS = 2000;
export const SCAN_WAIT_MS = 2 * 60 * 1000;
/** Progress updates re-render at most this often per file. */
const PROGRESS_THROTTLE_MS = 200;

export type UploadStatus =
  | 'queued'
  | 'uploading'
  | 'retrying'
  | 'conflict'
  | 'failed'
  | 'held'
  | 'available'
  | 'quarantined'
  | 'blocked'
  /** Held with a reason: an administrator decides (MAL-03). */
  | 'review'
  | 'damaged';

export interface UploadItem {
  key: string;
  /** The name as sent; the server's final name (「… (2).xlsx」) once known. */
  name: string;
  size: number;
  folder: FolderRef;
  /** Set when this is a new version of an existing file. */
  targetFileId: string | null;
  status: UploadStatus;
  sent: number;
  /** Bytes per second, smoothed; null until measured. */
  rate: number | null;
  errorCode: string | null;
  fileId: string | null;
  /** When the wait for the scan started (ms since epoch). */
  heldSince: number | null;
  /** Still held after SCAN_WAIT_MS: polling stopped. */
  scanSlow: boolean;
}

interface UploadsContextValue {
  items: UploadItem[];
  add: (files: readonly File[], folder: FolderRef, targetFileId?: string) => void;
  resume: (key: string) => void;
  keepBoth: (key: string) => void;
  cancel: (key: string) => void;
  dismiss: (key: string) => void;
  clearFinished: () => void;
  /** Grows whenever an upload finishes or a scan result arrives, so pages reload their listing. */
  revision: number;
}

const UploadsContext = createContext<UploadsContextValue | null>(null);

const ACTIVE: ReadonlySet<UploadStatus> = new Set(['uploading', 'retrying']);
const FINISHED: ReadonlySet<UploadStatus> = new Set(['available', 'quarantined', 'blocked', 'review', 'damaged']);

interface Entry {
  file: File;
  upload: tus.Upload | null;
  onConflict: OnConflict;
  tick: { at: number; sent: number };
}

/** The error code of a failed tus request: the server's code, or `network` when nothing answered. */
function codeOf(err: Error): string {
  const response = (err as tus.DetailedError).originalResponse;
  if (!response) return (err as tus.DetailedError).originalRequest ? 'network' : 'unknown';
  if (response.getStatus() === 0) return 'network';
  try {
    return errorOf(JSON.parse(response.getBody()), response.getStatus()).code;
  } catch {
    return 'unknown';
  }
}

/**
 * Retries what a retry can fix: no answer (network, server restarting), 5xx, 429, and an offset
 * mismatch (the client re-reads the offset first). Refusals (name taken, quota, rights, session)
 * go to the user at once.
 */
function shouldRetry(err: tus.DetailedError): boolean {
  const status = err.originalResponse?.getStatus() ?? 0;
  if (status === 0 || status >= 500 || status === 429 || status === 423) return true;
  return status === 409 && codeOf(err) === 'upload.offset_mismatch';
}

let nextKey = 0;

export function UploadsProvider({ children }: { children: ReactNode }) {
  const { state } = useSession();

  const [items, setItems] = useState<UploadItem[]>([]);
  const [revision, setRevision] = useState(0);
  const itemsRef = useRef<UploadItem[]>([]);
  const entries = useRef(new Map<string, Entry>());

  const mutate = useCallback((fn: (list: UploadItem[]) => UploadItem[]) => {
    itemsRef.current = fn(itemsRef.current);
    setItems(itemsRef.current);
  }, []);
  const patch = useCallback(
    (key: string, change: Partial<UploadItem>) => mutate((list) => list.map((i) => (i.key === key ? { ...i, ...change } : i))),
    [mutate],
  );
  const bump = useCallback(() => setRevision((r) => r + 1), []);

  const startNext = useRef<() => void>(() => {});

  const start = useCallback(
    (key: string) => {
      const entry = entries.current.get(key);
      const item = itemsRef.current.find((i) => i.key === key);
      if (!entry || !item) return;
      const metadata: Record<string, string> = {
        filename: entry.file.name,
        folderId: item.folder.id,
        filetype: (entry.file.type || 'application/octet-stream').slice(0, 200),
        onConflict: entry.onConflict,
      };
      if (item.targetFileId) metadata.fileId = item.targetFileId;
      entry.tick = { at: Date.now(), sent: 0 };
      const upload = new tus.Upload(entry.file, {
        endpoint: new URL('/api/v1/uploads', window.location.origin).href,
        chunkSize: CHUNK_BYTES,
        retryDelays: RETRY_DELAYS_MS,
        storeFingerprintForResuming: false,
        removeFingerprintOnSuccess: true,
        metadata,
        onBeforeRequest: (req) => {
          const token = currentCsrfToken();
          if (token) req.setHeader('x-csrf-token', token);
        },
        onProgress: (sent, total) => {
          const now = Date.now();
          const last = entry.tick;
          if (sent < total && now - last.at < PROGRESS_THROTTLE_MS) return;
          const current = itemsRef.current.find((i) => i.key === key);
          let rate = current?.rate ?? null;
          if (sent > last.sent && now > last.at) {
            const instant = ((sent - last.sent) * 1000) / (now - last.at);
            rate = rate === null ? instant : rate * 0.7 + instant * 0.3;
          }
          entry.tick = { at: now, sent };
          patch(key, { sent, rate, status: 'uploading' });
        },
        // What the server has durably stored; never throttled, so a failed upload shows where 再開 continues from.
        onChunkComplete: (_chunk, accepted) => {
          entry.tick = { at: Date.now(), sent: accepted };
          patch(key, { sent: accepted });
        },
        onShouldRetry: (err) => {
          const retry = shouldRetry(err);
          if (retry) patch(key, { status: 'retrying' });
          return retry;
        },
        onError: (err) => {
          const code = codeOf(err);
          // Let the session provider notice a session that ended.
          reportErrorCode(code);
          patch(key, { status: code === 'name.taken' ? 'conflict' : 'failed', errorCode: code, rate: null });
          startNext.current();
        },
        onSuccess: ({ lastResponse }) => {
          const fileId = lastResponse.getHeader('kura-file-id') ?? null;
          patch(key, { status: 'held', sent: item.size, fileId, heldSince: Date.now(), rate: null, errorCode: null });
          bump();
          startNext.current();
        },
      });
      entry.upload = upload;
      patch(key, { status: 'uploading', errorCode: null });
      upload.start();
    },
    [patch, bump],
  );

  startNext.current = () => {
    let active = itemsRef.current.filter((i) => ACTIVE.has(i.status)).length;
    for (const item of itemsRef.current) {
      if (active >= PARALLEL_UPLOADS) break;
      if (item.status !== 'queued') continue;
      active++;
      start(item.key);
    }
  };

  const add = useCallback(
    (files: readonly File[], folder: FolderRef, targetFileId?: string) => {
      const added: UploadItem[] = files.map((file) => {
        const key = `u${++nextKey}`;
        entries.current.set(key, { file, upload: null, onConflict: 'error', tick: { at: 0, sent: 0 } });
        return {
          key,
          name: file.name,
          size: file.size,
          folder,
          targetFileId: targetFileId ?? null,
          status: 'queued',
          sent: 0,
          rate: null,
          errorCode: null,
          fileId: null,
          heldSince: null,
          scanSlow: false,
        };
      });
      mutate((list) => [...list, ...added]);
      startNext.current();
    },
    [mutate],
  );

  const resume = useCallback(
    (key: string) => {
      const entry = entries.current.get(key);
      if (!entry) return;
      if (!entry.upload) return start(key);
      patch(key, { status: 'uploading', errorCode: null });
      // Continues from the offset the server reports for the same upload URL (HEAD), or creates it.
      entry.upload.start();
    },
    [patch, start],
  );

  const keepBoth = useCallback(
    (key: string) => {
      const entry = entries.current.get(key);
      if (!entry) return;
      entry.onConflict = 'keep_both';
      entry.upload = null;
      start(key);
    },
    [start],
  );

  const remove = useCallback(
    (key: string, terminate: boolean) => {
      const entry = entries.current.get(key);
      entries.current.delete(key);
      if (entry?.upload && terminate) void entry.upload.abort(true).catch(() => {});
      mutate((list) => list.filter((i) => i.key !== key));
      startNext.current();
    },
    [mutate],
  );

  const cancel = useCallback((key: string) => remove(key, true), [remove]);
  const dismiss = useCallback((key: string) => remove(key, false), [remove]);
  const clearFinished = useCallback(() => {
    for (const i of itemsRef.current)
      if (FINISHED.has(i.status) || (i.status === 'held' && i.scanSlow)) entries.current.delete(i.key);
    mutate((list) => list.filter((i) => !(FINISHED.has(i.status) || (i.status === 'held' && i.scanSlow))));
  }, [mutate]);

  // Held files: ask the folder (one request per folder) until the scan decided or the wait ran out.
  const pollOnce = useCallback(async () => {
    const held = itemsRef.current.filter((i) => i.status === 'held' && i.fileId && !i.scanSlow);
    if (held.length === 0) return;
    const listings = new Map<string, FileItem[]>();
    for (const folderId of new Set(held.map((i) => i.folder.id))) {
      try {
        listings.set(folderId, (await fetchFolder(folderId)).files);
      } catch {
        // Try again at the next tick.
      }
    }
    let changed = false;
    for (const item of held) {
      let file = listings.get(item.folder.id)?.find((f) => f.id === item.fileId);
      if (!file && listings.has(item.folder.id)) file = await fetchFile(item.fileId!).catch(() => undefined);
      const state = file?.latest.state;
      if (file && state && (state !== 'held' || file.latest.holdReason)) {
        patch(item.key, { status: state === 'held' ? 'review' : state, name: file.name });
        changed = true;
      } else if (Date.now() - (item.heldSince ?? 0) > SCAN_WAIT_MS) {
        patch(item.key, { scanSlow: true, ...(file ? { name: file.name } : {}) });
      } else if (file && file.name !== item.name) {
        patch(item.key, { name: file.name });
      }
    }
    if (changed) bump();
  }, [patch, bump]);

  const polling = items.some((i) => i.status === 'held' && i.fileId && !i.scanSlow);
  useEffect(() => {
    if (!polling) return;
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      void pollOnce().finally(() => {
        running = false;
      });
    }, SCAN_POLL_MS);
    return () => clearInterval(timer);
  }, [polling, pollOnce]);

  // Leaving the page would stop the uploads: the browser asks first.
  const busy = items.some((i) => i.status === 'queued' || ACTIVE.has(i.status));
  useEffect(() => {
    if (!busy) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [busy]);

  // Signed out (or the session ended): stop everything and forget the list.
  const signedIn = state.status === 'signed-in';
  useEffect(() => {
    if (signedIn) return;
    for (const entry of entries.current.values()) void entry.upload?.abort(false).catch(() => {});
    entries.current.clear();
    if (itemsRef.current.length) mutate(() => []);
  }, [signedIn, mutate]);

  const value = useMemo(
    () => ({ items, add, resume, keepBoth, cancel, dismiss, clearFinished, revision }),
    [items, add, resume, keepBoth, cancel, dismiss, clearFinished, revision],
  );
  return <UploadsContext.Provider value={value}>{children}</UploadsContext.Provider>;
}

export function useUploads(): UploadsContextValue {
  const value = useContext(UploadsContext);
  if (!value) throw new Error('useUploads outside UploadsProvider');
  return value;
}

/**
 * The outside party's uploads through a request link: tus 1.0 resumable uploads (tus-js-client, as
 * the staff upload does: 8 MiB chunks, automatic retries from the offset the server reports, a
 * 再開 button when they run out) to `/api/v1/ext/requests/<token>/uploads`. The link's session
 * cookie (path /api/v1/ext/) rides along because the requests are same-origin.
 *
 * Each file is checked here first against the request's size limit and accepted types (from the
 * name; only a hint, the server decides from the content), so a refusal is said before any byte
 * is sent. Server refusals (413 exchange.too_large, 415 exchange.type_not_allowed) end that file
 * with the reason; a lost verification (401 exchange.verification_required) and a dead link (404)
 * are handed to the page.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import * as tus from 'tus-js-client';
import { errorOf } from '../../api/api-client';
import { CHUNK_BYTES, RETRY_DELAYS_MS } from '../files/uploads';
import { extUploadEndpoint, type TypeCategory } from './exchange.api';
import { categoryOfName } from './file-types';

/** How many files upload at once; the rest wait 「待機中」. */
const PARALLEL_UPLOADS = 2;
const PROGRESS_THROTTLE_MS = 200;

export type ExtUploadStatus = 'refused' | 'queued' | 'uploading' | 'retrying' | 'done' | 'failed';

export interface ExtUpload {
  key: string;
  name: string;
  size: number;
  status: ExtUploadStatus;
  sent: number;
  /** Why the file was refused or failed: a server error code, or `too_large` / `type` from the pre-check. */
  errorCode: string | null;
  /** The type the pre-check (or the server's refusal) named. */
  category: string | null;
  sha256: string | null;
}

export interface UploadRules {
  maxBytes: number;
  /** Empty: any type the organisation accepts. */
  allowedTypes: readonly string[];
}

/** The pre-check's verdict on one file: null when it may be sent. */
export function precheck(
  file: { name: string; size: number },
  rules: UploadRules,
): { code: string; category: string | null } | null {
  if (rules.maxBytes > 0 && file.size > rules.maxBytes) return { code: 'exchange.too_large', category: null };
  if (rules.allowedTypes.length > 0) {
    const category: TypeCategory = categoryOfName(file.name);
    if (!rules.allowedTypes.includes(category)) return { code: 'exchange.type_not_allowed', category };
  }
  return null;
}

function errorOfTus(err: Error): { code: string; status: number; reasons: readonly string[] } {
  const response = (err as tus.DetailedError).originalResponse;
  if (!response || response.getStatus() === 0) return { code: 'network', status: 0, reasons: [] };
  try {
    const e = errorOf(JSON.parse(response.getBody()), response.getStatus());
    return { code: e.code, status: response.getStatus(), reasons: e.reasons };
  } catch {
    return { code: 'unknown', status: response.getStatus(), reasons: [] };
  }
}

/** Retries what a retry can fix: no answer, 5xx, an offset mismatch; refusals go to the person at once. */
function shouldRetry(err: tus.DetailedError): boolean {
  const status = err.originalResponse?.getStatus() ?? 0;
  if (status === 0 || status >= 500 || status === 423) return true;
  return status === 409 && errorOfTus(err).code === 'upload.offset_mismatch';
}

let nextKey = 0;

export function useExternalUploads(
  token: string,
  rules: UploadRules | null,
  hooks: { onUploaded: () => void; onVerificationLost: () => void; onLinkGone: () => void },
) {
  const [items, setItems] = useState<ExtUpload[]>([]);
  const itemsRef = useRef<ExtUpload[]>([]);
  const files = useRef(new Map<string, { file: File; upload: tus.Upload | null; tick: number }>());
  const hooksRef = useRef(hooks);
  hooksRef.current = hooks;

  const mutate = useCallback((fn: (list: ExtUpload[]) => ExtUpload[]) => {
    itemsRef.current = fn(itemsRef.current);
    setItems(itemsRef.current);
  }, []);
  const patch = useCallback(
    (key: string, change: Partial<ExtUpload>) => mutate((list) => list.map((i) => (i.key === key ? { ...i, ...change } : i))),
    [mutate],
  );
  const startNext = useRef<() => void>(() => {});

  const start = useCallback(
    (key: string) => {
      const entry = files.current.get(key);
      if (!entry) return;
      const upload = new tus.Upload(entry.file, {
        endpoint: new URL(extUploadEndpoint(token), window.location.origin).href,
        chunkSize: CHUNK_BYTES,
        retryDelays: RETRY_DELAYS_MS,
        storeFingerprintForResuming: false,
        removeFingerprintOnSuccess: true,
        metadata: {
          filename: entry.file.name,
          filetype: (entry.file.type || 'application/octet-stream').slice(0, 200),
        },
        onProgress: (sent, total) => {
          const now = Date.now();
          if (sent < total && now - entry.tick < PROGRESS_THROTTLE_MS) return;
          entry.tick = now;
          patch(key, { sent, status: 'uploading' });
        },
        onChunkComplete: (_chunk, accepted) => patch(key, { sent: accepted }),
        onShouldRetry: (err) => {
          const retry = shouldRetry(err);
          if (retry) patch(key, { status: 'retrying' });
          return retry;
        },
        onError: (err) => {
          const { code, reasons } = errorOfTus(err);
          const category = reasons.find((r) => r.length > 0) ?? null;
          patch(key, { status: 'failed', errorCode: code, category });
          if (code === 'exchange.verification_required') hooksRef.current.onVerificationLost();
          else if (code === 'exchange.not_found') hooksRef.current.onLinkGone();
          startNext.current();
        },
        onSuccess: ({ lastResponse }) => {
          patch(key, {
            status: 'done',
            sent: entry.file.size,
            errorCode: null,
            sha256: lastResponse.getHeader('kura-sha256') ?? null,
          });
          hooksRef.current.onUploaded();
          startNext.current();
        },
      });
      entry.upload = upload;
      patch(key, { status: 'uploading', errorCode: null, category: null });
      upload.start();
    },
    [token, patch],
  );

  startNext.current = () => {
    let active = itemsRef.current.filter((i) => i.status === 'uploading' || i.status === 'retrying').length;
    for (const item of itemsRef.current) {
      if (active >= PARALLEL_UPLOADS) break;
      if (item.status !== 'queued') continue;
      active++;
      start(item.key);
    }
  };

  const add = useCallback(
    (list: readonly File[]) => {
      if (!rules) return;
      const added = list.map((file): ExtUpload => {
        const key = `x${++nextKey}`;
        const refusal = precheck(file, rules);
        if (!refusal) files.current.set(key, { file, upload: null, tick: 0 });
        return {
          key,
          name: file.name,
          size: file.size,
          status: refusal ? 'refused' : 'queued',
          sent: 0,
          errorCode: refusal?.code ?? null,
          category: refusal?.category ?? null,
          sha256: null,
        };
      });
      mutate((items) => [...items, ...added]);
      startNext.current();
    },
    [rules, mutate],
  );

  /** Continues a failed upload from the offset the server has (or starts it again). */
  const resume = useCallback(
    (key: string) => {
      const entry = files.current.get(key);
      if (!entry) return;
      if (!entry.upload) return start(key);
      patch(key, { status: 'uploading', errorCode: null, category: null });
      entry.upload.start();
    },
    [patch, start],
  );

  const remove = useCallback(
    (key: string) => {
      const entry = files.current.get(key);
      files.current.delete(key);
      if (entry?.upload) void entry.upload.abort(true).catch(() => {});
      mutate((list) => list.filter((i) => i.key !== key));
      startNext.current();
    },
    [mutate],
  );

  // Leaving the page would stop the uploads: the browser asks first.
  const busy = items.some((i) => i.status === 'queued' || i.status === 'uploading' || i.status === 'retrying');
  useEffect(() => {
    if (!busy) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
      event.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [busy]);

  // Nothing keeps running after the page is left inside the app.
  useEffect(() => {
    const map = files.current;
    return () => {
      for (const entry of map.values()) void entry.upload?.abort(false).catch(() => {});
    };
  }, []);

  return { items, add, resume, remove, busy };
}

/**
 * Whole-blob reads of local blob files on a thread of their own (blob-reader.worker.ts): reading,
 * opening the segments and the SHA-256 check of a download leave the event loop, which keeps TLS and
 * HTTP. One thread serves every stream, round-robin; a stream whose client is slow holds at most
 * about 2 MiB (a run of 512 KiB buffered, CREDIT runs on their way and the one that filled it).
 *
 * The stream fails with IntegrityError when a segment fails authentication (tampering, truncation)
 * or size or SHA-256 are not as recorded (the last run is then never delivered), or with the file
 * system's error.
 * Destroying it early (a client that went away) tells the thread to close the file.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AppError } from '../core/errors.js';
import { BlobNotFoundError } from '../storage/blob-store.js';

/** Runs a stream may have on their way: read ahead while the socket takes the previous ones. */
const CREDIT = 2;
/** Plaintext a stream buffers before it stops giving credit back: one run. */
const BUFFERED = 512 * 1024;

export type ReaderRequest =
  | {
      op: 'open';
      id: number;
      path: string;
      dek: Uint8Array;
      tenantId: string;
      blobId: string;
      verify?: { sha256: string; size: number };
      credit: number;
    }
  | { op: 'credit'; id: number; n: number }
  | { op: 'cancel'; id: number };

export type ReaderReply =
  | { id: number; data: ArrayBuffer[]; done: boolean }
  | { id: number; error: { name: string; message: string; code?: string | undefined } };

/**
 * A blob failed authentication, or its plaintext did not match the record's size or SHA-256
 * (TLS-02). A download that fails so before its first byte answers 500 `file.integrity_failed`.
 */
export class IntegrityError extends AppError {
  constructor(reason: string) {
    super('file.integrity_failed', reason);
    this.name = 'IntegrityError';
    this.message = reason;
  }
}

interface Pending {
  stream: Readable;
  onReply(reply: ReaderReply): void;
}

export class BlobReader {
  private worker: Worker | null = null;
  /** Open streams by id; a reply for an id no longer here (cancelled) is dropped. */
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /**
   * Streams the plaintext of the blob file at `path`. `dek` is copied to the thread and wiped here;
   * with `verify`, the stream fails unless the plaintext has that size and SHA-256.
   */
  open(
    path: string,
    dek: Buffer,
    ctx: { tenantId: string; blobId: string },
    verify?: { sha256: string; size: number },
  ): Readable {
    const worker = this.thread();
    const id = this.nextId++;
    /** Runs pushed while the stream's buffer was full: their credit goes back when it is read. */
    let owed = 0;
    const send = (m: ReaderRequest) => worker.postMessage(m);
    const stream = new Readable({
      highWaterMark: BUFFERED,
      read: () => {
        if (owed > 0 && this.pending.has(id)) send({ op: 'credit', id, n: owed });
        owed = 0;
      },
      destroy: (err, cb) => {
        if (this.pending.delete(id)) send({ op: 'cancel', id });
        cb(err);
      },
    });
    this.pending.set(id, {
      stream,
      onReply: (reply) => {
        if ('error' in reply) {
          this.pending.delete(id);
          stream.destroy(toError(reply.error));
          return;
        }
        let more = true;
        for (const ab of reply.data) more = stream.push(Buffer.from(ab));
        if (reply.done) {
          this.pending.delete(id);
          stream.push(null);
        } else if (more) send({ op: 'credit', id, n: 1 });
        else owed++;
      },
    });
    const request: ReaderRequest = { op: 'open', id, path, dek: new Uint8Array(dek), ...ctx, credit: CREDIT };
    if (verify) request.verify = verify;
    dek.fill(0);
    send(request);
    // postMessage copied it; the thread wipes its copy once it has derived the segment key.
    request.dek.fill(0);
    return stream;
  }

  /** Stops the thread; streams still open fail. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(workerUrl());
    w.unref();
    w.on('message', (reply: ReaderReply) => this.pending.get(reply.id)?.onReply(reply));
    const lost = (err: Error) => {
      if (this.worker === w) this.worker = null;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.stream.destroy(err);
      }
    };
    w.on('error', lost);
    w.on('exit', (code) => lost(new Error(`blob reader thread exited (${code})`)));
    this.worker = w;
    return w;
  }
}

/** The thread's module: built, the .js beside this one; from source (tsx, vitest), through tsx. */
function workerUrl(): URL {
  const own = new URL('./blob-reader.worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return own;
  // A thread does not inherit tsx's loader: a bootstrap registers it, then loads the TypeScript module.
  const require = createRequire(import.meta.url);
  const tsx = require('tsx/package.json') as { exports: Record<string, { import: { default: string } }> };
  const api = pathToFileURL(join(dirname(require.resolve('tsx/package.json')), tsx.exports['./esm/api']!.import.default));
  const target = new URL('./blob-reader.worker.ts', import.meta.url);
  const code = `import { register } from ${JSON.stringify(api.href)}; register(); await import(${JSON.stringify(target.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

function toError(e: { name: string; message: string; code?: string | undefined }): Error {
  if (e.name === 'DecryptError' || e.name === 'IntegrityError') return new IntegrityError(e.message);
  if (e.code === 'ENOENT') return new BlobNotFoundError(e.message);
  return Object.assign(new Error(e.message), { name: e.name, code: e.code });
}

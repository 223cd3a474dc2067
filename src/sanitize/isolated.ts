/**
 * A 無害化 engine on a thread of its own, one thread per file (MAL-07). The OOXML and PDF engines
 * are JavaScript working on hostile input: run in the server, a file that makes them loop or grow
 * would stall both zones' listeners and could exhaust the process. Here a file gets a JavaScript
 * heap bound (`heapMb`; Buffers live outside it and are bounded by each engine's input limits) and a
 * bound on the time the engine works (`timeoutMs`, its thread's busy time); past either the thread
 * is stopped and the file fails as `limit` (held for review), and the server carries on. The thread
 * sees plaintext only as the owner streams it, never keys or storage; the rebuild comes back the
 * same way.
 *
 * Errors keep their meaning for the stage: the engine's SanitizeError arrives as one; a failure of
 * the sink (storage) is rethrown as the sink threw it, unless the engine had abandoned its own
 * rebuild; a failure of the source reaches the stage through the source's own stream; and what is
 * not the file's doing (the thread would not start or load its engine, died, or waited on storage
 * for STALL_FACTOR × timeoutMs) is a SanitizeRetry, so the job runs again.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { WINDOW, type FromEngine, type IsolatedInit, type ToEngine } from './isolated.protocol.js';
import {
  SanitizeError,
  SanitizeRetry,
  type Sanitizer,
  type SanitizeOutcome,
  type SanitizeSink,
  type SanitizeSource,
} from './sanitizer.js';

export interface IsolationLimits {
  /**
   * Time the engine may spend working on one file (its thread busy, not waiting for the file's
   * bytes or for storage to take the rebuild). Waiting longer than STALL_FACTOR times this in all
   * is storage trouble, not the file's: the job is retried.
   */
  timeoutMs: number;
  /** The thread's JavaScript heap (V8 old generation), in MiB. */
  heapMb: number;
}

export const DEFAULT_ISOLATION: IsolationLimits = { timeoutMs: 10 * 60_000, heapMb: 1024 };
const STALL_FACTOR = 3;

type Kind = Pick<SanitizeSource, 'name' | 'detectedMime'>;

export class IsolatedSanitizer implements Sanitizer {
  constructor(
    readonly engine: string,
    private readonly accepts: (s: Kind) => boolean,
    /** The engine's module (a file URL) and the class it exports (constructed without arguments). */
    private readonly module: URL,
    private readonly exportName: string,
    private readonly limits: IsolationLimits = DEFAULT_ISOLATION,
  ) {}

  handles(s: Kind): boolean {
    return this.accepts(s);
  }

  sanitize(source: SanitizeSource, sink: SanitizeSink): Promise<SanitizeOutcome> {
    const init: IsolatedInit = {
      module: this.module.href,
      exportName: this.exportName,
      source: {
        name: source.name,
        size: source.size,
        detectedMime: source.detectedMime,
        ...(source.policy ? { policy: source.policy } : {}),
      },
    };
    return new Run(source, sink, init, this.limits).result;
  }
}

/** One file on one thread. */
class Run {
  readonly result: Promise<SanitizeOutcome>;
  private readonly worker: Worker;
  /** Source streams the thread has open, with the chunks it has not yet handed credit back for. */
  private readonly streams = new Map<number, { stream: Readable; inflight: number; wake: (() => void) | null }>();
  private body: Readable | null = null;
  private bodyOwed = 0;
  /** The sink's own promise, and its failure if it failed: that failure is the stage's answer. */
  private sinking: Promise<void> | null = null;
  private sinkFailure: unknown = null;
  /** The engine gave up on its own rebuild: the sink's failure that follows is its echo, not storage's. */
  private bodyAborted = false;
  /** Streams the engine dropped before the owner had opened them. */
  private readonly cancelled = new Set<number>();
  private settled = false;

  constructor(
    private readonly source: SanitizeSource,
    private readonly sink: SanitizeSink,
    init: IsolatedInit,
    limits: IsolationLimits,
  ) {
    this.worker = new Worker(workerUrl(), {
      workerData: init,
      resourceLimits: { maxOldGenerationSizeMb: limits.heapMb, maxYoungGenerationSizeMb: 64, stackSizeMb: 8 },
      stdout: false,
      stderr: false,
    });
    this.result = new Promise<SanitizeOutcome>((resolve, reject) => {
      // The engine's working time is its thread's busy time (event-loop utilisation), so a slow
      // disk or S3 does not count against the file; the whole run still has a bound.
      const started = Date.now();
      const timer = setInterval(
        () => {
          if (this.worker.performance.eventLoopUtilization().active > limits.timeoutMs)
            finish(new SanitizeError('limit', `無害化 took longer than ${Math.round(limits.timeoutMs / 1000)} s`));
          else if (Date.now() - started > STALL_FACTOR * limits.timeoutMs)
            finish(new SanitizeRetry('無害化 stalled waiting for storage'));
        },
        Math.min(1000, Math.max(50, limits.timeoutMs / 10)),
      );
      timer.unref();
      const finish = (outcome: SanitizeOutcome | Error) => {
        if (this.settled) return;
        this.settled = true;
        clearInterval(timer);
        void this.worker.terminate();
        for (const s of this.streams.values()) s.stream.destroy();
        this.streams.clear();
        // A sink that had already failed decides (a storage error retries the job); a sink that
        // fails now only because the thread was stopped under it does not.
        const decided = this.sinkFailure;
        if (outcome instanceof Error) this.body?.destroy(outcome);
        // The sink is waited for, so a half-written blob is cleaned up before the stage goes on.
        void (this.sinking ?? Promise.resolve()).then(() => {
          if (decided !== null) reject(decided as Error);
          else if (outcome instanceof Error) reject(outcome);
          else resolve(outcome);
        });
      };
      this.worker.on('message', (m: FromEngine) => {
        if (m.t === 'done') finish(m.outcome);
        else if (m.t === 'error')
          finish(
            m.error.retry
              ? new SanitizeRetry(`無害化 engine could not be loaded: ${m.error.message}`)
              : m.error.code
                ? new SanitizeError(m.error.code as SanitizeError['code'], m.error.message)
                : Object.assign(new Error(m.error.message), { name: m.error.name }),
          );
        else this.onMessage(m);
      });
      // Out of memory is the file's doing; a thread that fails to start or dies otherwise is not.
      this.worker.on('error', (err: Error & { code?: string }) =>
        finish(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new SanitizeError('limit', `無害化 needed more than ${limits.heapMb} MiB of memory`)
            : new SanitizeRetry(`無害化 thread failed: ${err.message}`, { cause: err }),
        ),
      );
      this.worker.on('exit', (code) => finish(new SanitizeRetry(`無害化 thread exited (${code})`)));
    });
  }

  private post(m: ToEngine, transfer?: ArrayBuffer[]): void {
    if (!this.settled) this.worker.postMessage(m, transfer);
  }

  private onMessage(m: FromEngine): void {
    switch (m.t) {
      case 'open':
        void this.pump(m.id, m.range);
        return;
      case 'credit': {
        const s = this.streams.get(m.id);
        if (!s) return;
        s.inflight--;
        s.wake?.();
        s.wake = null;
        return;
      }
      case 'cancel': {
        const s = this.streams.get(m.id);
        if (!s) this.cancelled.add(m.id); // not open yet: closed as soon as it is
        this.streams.delete(m.id);
        s?.stream.destroy();
        s?.wake?.();
        return;
      }
      case 'sink-chunk': {
        const body = this.openBody();
        if (body.push(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength))) this.post({ t: 'sink-credit' });
        else this.bodyOwed++;
        return;
      }
      case 'sink-end':
        this.openBody().push(null);
        return;
      case 'sink-abort':
        this.bodyAborted = true;
        this.openBody().destroy(new Error(m.message));
        return;
      default:
        return;
    }
  }

  /** The rebuilt file as the sink reads it; the sink is called on the thread's first chunk. */
  private openBody(): Readable {
    if (this.body) return this.body;
    const body = new Readable({
      read: () => {
        for (; this.bodyOwed > 0; this.bodyOwed--) this.post({ t: 'sink-credit' });
      },
    });
    this.body = body;
    this.sinking = this.sink(body).then(
      () => this.post({ t: 'sink-done' }),
      (err: unknown) => {
        if (!this.bodyAborted) this.sinkFailure = err;
        this.post({ t: 'sink-fail', message: (err as Error).message });
      },
    );
    return body;
  }

  /** Reads one source stream and feeds it to the thread, at most WINDOW chunks ahead. */
  private async pump(id: number, range?: [number, number]): Promise<void> {
    let stream: Readable;
    try {
      stream = await (range ? this.source.openRange(range[0], range[1]) : this.source.open());
    } catch (err) {
      this.post({ t: 'fail', id, message: (err as Error).message });
      return;
    }
    const entry = { stream, inflight: 0, wake: null as (() => void) | null };
    if (this.settled || this.cancelled.delete(id)) return void stream.destroy();
    this.streams.set(id, entry);
    try {
      for await (const chunk of stream) {
        while (entry.inflight >= WINDOW && this.streams.has(id)) await new Promise<void>((w) => (entry.wake = w));
        if (!this.streams.has(id)) return;
        entry.inflight++;
        const data = new Uint8Array(chunk as Buffer);
        this.post({ t: 'chunk', id, data }, [data.buffer]);
      }
      if (this.streams.delete(id)) this.post({ t: 'end', id });
    } catch (err) {
      if (this.streams.delete(id)) this.post({ t: 'fail', id, message: (err as Error).message });
    }
  }
}

/** The thread's module: built, the .js beside this one; from source (tsx, vitest), through tsx. */
function workerUrl(): URL {
  const own = new URL('./isolated.worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.ts')) return own;
  // A thread does not inherit tsx's loader: a bootstrap registers it, then loads the TypeScript module.
  const require = createRequire(import.meta.url);
  const tsx = require('tsx/package.json') as { exports: Record<string, { import: { default: string } }> };
  const api = pathToFileURL(join(dirname(require.resolve('tsx/package.json')), tsx.exports['./esm/api']!.import.default));
  const target = new URL('./isolated.worker.ts', import.meta.url);
  const code = `import { register } from ${JSON.stringify(api.href)}; register(); await import(${JSON.stringify(target.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

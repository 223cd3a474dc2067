/**
 * How durable writers (a blob being stored, a tus PATCH being staged) gather their output into
 * batches, one `write` each, with one batch in flight while the next is gathered.
 *
 * Batch size: a lone transfer gets 1 MiB batches, few system calls; a transfer that starts while
 * others write gets a smaller power of two (down to 128 KiB), its share of a fixed budget, and keeps
 * it to its end: 20 uploads started at once hold about 26 MB of batches instead of 40.
 *
 * Output is copied into two buffers the writer owns and reuses, instead of keeping the chunks it is
 * given until their batch is written. A chunk kept that long (many transfers share the event loop,
 * so a batch takes long to fill) survives young-generation GCs and is promoted; promoted buffers are
 * freed only by full GCs, and V8 starts one for every 64 MB of them ("external memory pressure"):
 * 20 concurrent uploads ran a full GC every 120 ms. Copied at once, a chunk dies young and costs one
 * memcpy.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { ALIGN, giveAligned, takeAlignedPair } from './aligned-buffers.js';

const MAX_BATCH_BYTES = 1024 * 1024;
const MIN_BATCH_BYTES = 128 * 1024;
const BUDGET_BYTES = 8 * 1024 * 1024;
/** A background fdatasync starts once this much was written since the last one (none runs twice at once). */
const SYNC_EVERY_BYTES = 64 * 1024 * 1024;
/** Linux only; elsewhere every writer goes through the page cache. */
const O_DIRECT: number | undefined = constants.O_DIRECT;

let writers = 0;

export interface WriteBatch {
  /** The batch size for a writer starting now (smaller while more writers are active). */
  bytes(): number;
  /** Ends this writer's share; safe to call more than once. */
  release(): void;
}

export function openWriteBatch(): WriteBatch {
  writers++;
  let held = true;
  return {
    // A power of two, so that aligned buffers come in few sizes (see aligned-buffers.ts).
    bytes: () => {
      let size = MAX_BATCH_BYTES;
      while (size > MIN_BATCH_BYTES && size * writers > BUDGET_BYTES) size /= 2;
      return size;
    },
    release: () => {
      if (held) writers--;
      held = false;
    },
  };
}

/** Writers holding a share now (tests). */
export function activeWriters(): number {
  return writers;
}

/**
 * Writes a sequence of chunks to a file from byte `position` on, in batches (see above), and makes
 * them durable in `finish()` (fsync). Call `finish()` after the last chunk, or `abandon()` after a
 * failure; either releases the share. `fh` must be readable when `position` is not a multiple of
 * 4 KiB and `path` is given.
 *
 * With `path`, batches bypass the page cache (O_DIRECT on a second descriptor of the file, buffers
 * from `aligned-buffers.ts`): copying every byte into fresh page-cache pages was the largest single
 * cost of an upload on the benchmark machine (about 2 CPU-s/GB in the kernel, more than the
 * transfer's SHA-256 and AES-GCM together), and a 1 GiB upload no longer pushes 1 GiB of other
 * files out of the cache. Direct writes must start and end on 4 KiB boundaries: an unaligned start
 * re-writes the bytes before it in its first block (read back first), and the last batch is padded
 * with zeros and the file truncated to its real end before the fsync. Where the filesystem refuses
 * O_DIRECT (tmpfs on older kernels, some FUSE filesystems) or its alignment, or the aligned pool is
 * spent, the writer goes through the page cache, flushing it in the background every `syncEvery`
 * bytes (0: after every batch) so that `finish()` has little left to write.
 */
export class BatchWriter {
  private readonly share = openWriteBatch();
  private readonly size = this.share.bytes();
  private buffers: [Buffer, Buffer] | null = null;
  private aligned = false;
  private direct: FileHandle | null = null;
  private started: Promise<void> | null = null;
  private current = 0;
  private fill = 0;
  /** Set once `start()` is done, so that `write()` awaits it only for the first chunk. */
  private ready = false;
  private added = 0;
  private writing: Promise<void> | null = null;
  private syncing: Promise<void> | null = null;
  private unsynced = 0;
  private done = false;

  constructor(
    private readonly fh: FileHandle,
    private position: number,
    private readonly syncEvery = SYNC_EVERY_BYTES,
    private readonly path?: string,
  ) {}

  /** Where the next chunk will land once everything gathered is written. */
  get end(): number {
    return this.position + this.fill;
  }

  /** Whether batches bypass the page cache (after the first write; tests). */
  get bypassesCache(): boolean {
    return this.direct !== null;
  }

  private start(): Promise<void> {
    this.started ??= (async () => {
      const pair = this.path && O_DIRECT ? takeAlignedPair(this.size) : null;
      if (pair) {
        this.aligned = true;
        this.direct = await open(this.path!, constants.O_WRONLY | O_DIRECT!).catch(() => null);
      }
      this.buffers = pair ?? [Buffer.allocUnsafeSlow(this.size), Buffer.allocUnsafeSlow(this.size)];
      const head = this.position % ALIGN;
      if (this.direct && head > 0) {
        const at = this.position - head;
        const { bytesRead } = await this.fh.read(this.buffers[0], 0, head, at);
        if (bytesRead !== head) throw new Error(`file ends before its write position ${this.position}`);
        this.position = at;
        this.fill = head;
      }
      this.ready = true;
    })();
    return this.started;
  }

  /** Copies `chunk` into the batch; a full batch is written (after the one before it is done). */
  async write(chunk: Buffer): Promise<void> {
    if (!this.ready) await this.start();
    this.added += chunk.length;
    for (let off = 0; off < chunk.length;) {
      const buf = this.buffers![this.current]!;
      const room = buf.length - this.fill;
      const n = chunk.copy(buf, this.fill, off, Math.min(chunk.length, off + room));
      this.fill += n;
      off += n;
      if (this.fill === buf.length) await this.flush();
    }
  }

  /** Waits for the batch in flight, then starts writing what is gathered (a whole batch, or the last). */
  private async flush(): Promise<void> {
    await this.writing;
    if (this.fill === 0) return;
    const buf = this.buffers![this.current]!;
    const real = this.fill;
    // Only the last batch can be short; a direct write of it is padded to the block (truncated in finish()).
    const padded = this.direct ? Math.ceil(real / ALIGN) * ALIGN : real;
    buf.fill(0, real, padded);
    const at = this.position;
    this.position += real;
    this.unsynced += real;
    this.fill = 0;
    this.current ^= 1;
    this.writing = this.writeBatch(buf.subarray(0, padded), real, at).then(() => this.syncInBackground());
    this.writing.catch(() => {});
  }

  private async writeBatch(batch: Buffer, real: number, at: number): Promise<void> {
    if (this.direct) {
      try {
        await writeFully(this.direct, batch, at);
        return;
      } catch (err) {
        // Alignment refused after all (a device with larger blocks): the page cache from here on.
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        await this.closeDirect();
      }
    }
    await writeFully(this.fh, batch.subarray(0, real), at);
  }

  private syncInBackground(): void {
    if (this.direct || this.syncing || this.unsynced < this.syncEvery) return;
    this.unsynced = 0;
    this.syncing = this.fh.datasync().finally(() => {
      this.syncing = null;
    });
    this.syncing.catch(() => {});
  }

  /** Writes what is left and fsyncs: everything written is durable when this resolves. */
  async finish(): Promise<void> {
    try {
      if (this.started) {
        if (this.added === 0) this.fill = 0; // nothing new: the first block needs no rewrite
        await this.flush();
        await this.writing;
        await this.syncing;
        // A padded last batch left zeros past the end.
        if (this.direct && this.added > 0) await this.fh.truncate(this.position);
      }
      await this.fh.sync();
    } finally {
      await this.release();
    }
  }

  /** Drops what is gathered and waits for the writes and syncs in flight (errors ignored). */
  async abandon(): Promise<void> {
    this.fill = 0;
    await this.started?.catch(() => {});
    await this.writing?.catch(() => {});
    await this.syncing?.catch(() => {});
    await this.release();
  }

  private async release(): Promise<void> {
    this.share.release();
    if (this.done) return;
    this.done = true;
    await this.closeDirect();
    // Only now that no write reads them can the aligned buffers serve another writer.
    if (this.aligned && this.buffers) giveAligned(this.buffers);
    this.buffers = null;
  }

  private async closeDirect(): Promise<void> {
    const d = this.direct;
    this.direct = null;
    await d?.close().catch(() => {});
  }
}

async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let off = 0; off < buf.length;) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    off += bytesWritten;
  }
}

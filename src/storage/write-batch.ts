/**
 * How durable writers (a blob being stored, a tus PATCH being staged) gather their output into
 * batches, one `write` each, with one batch in flight while the next is gathered.
 *
 * Batch size: a lone transfer gets 1 MiB batches, few system calls; transfers running at the same
 * time share a fixed budget, so 20 concurrent uploads hold about 16 MB of batches instead of 40.
 *
 * Output is copied into two buffers the writer owns and reuses, instead of keeping the chunks it is
 * given until their batch is written. A chunk kept that long (many transfers share the event loop,
 * so a batch takes long to fill) survives young-generation GCs and is promoted; promoted buffers are
 * freed only by full GCs, and V8 starts one for every 64 MB of them ("external memory pressure"):
 * 20 concurrent uploads ran a full GC every 120 ms. Copied at once, a chunk dies young and costs one
 * memcpy.
 */
import type { FileHandle } from 'node:fs/promises';

const MAX_BATCH_BYTES = 1024 * 1024;
const MIN_BATCH_BYTES = 128 * 1024;
const BUDGET_BYTES = 8 * 1024 * 1024;
/** A background fdatasync starts once this much was written since the last one (none runs twice at once). */
const SYNC_EVERY_BYTES = 64 * 1024 * 1024;

let writers = 0;

export interface WriteBatch {
  /** The batch size now (it shrinks while more writers are active). */
  bytes(): number;
  /** Ends this writer's share; safe to call more than once. */
  release(): void;
}

export function openWriteBatch(): WriteBatch {
  writers++;
  let open = true;
  return {
    bytes: () => Math.max(MIN_BATCH_BYTES, Math.min(MAX_BATCH_BYTES, Math.floor(BUDGET_BYTES / writers))),
    release: () => {
      if (open) writers--;
      open = false;
    },
  };
}

/** Writers holding a share now (tests). */
export function activeWriters(): number {
  return writers;
}

/**
 * Writes a sequence of chunks to `fh` from byte `position` on, in batches (see above). Written data
 * is flushed to the disk in the background as it goes, so `finish()`, whose fsync is the durability
 * guarantee, has little left to write (a 1 GiB file otherwise waits seconds for it after its last
 * byte). `syncEvery` is how much is written between two such flushes (0: after every batch); one
 * runs at a time. Call `finish()` after the last chunk, or `abandon()` after a failure; either
 * releases the share.
 */
export class BatchWriter {
  private readonly share = openWriteBatch();
  private readonly buffers: [Buffer, Buffer];
  private current = 0;
  private fill = 0;
  private writing: Promise<void> | null = null;
  private syncing: Promise<void> | null = null;
  private unsynced = 0;

  constructor(
    private readonly fh: FileHandle,
    private position: number,
    private readonly syncEvery = SYNC_EVERY_BYTES,
  ) {
    const size = this.share.bytes();
    this.buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
  }

  /** Where the next chunk will land once everything gathered is written. */
  get end(): number {
    return this.position + this.fill;
  }

  /** Copies `chunk` into the batch; a full batch is written (after the one before it is done). */
  async write(chunk: Buffer): Promise<void> {
    for (let off = 0; off < chunk.length;) {
      const buf = this.buffers[this.current]!;
      // The batch size shrinks when other writers start: a batch already past it is written as it is.
      const room = Math.min(buf.length, this.share.bytes()) - this.fill;
      if (room <= 0) {
        await this.flush();
        continue;
      }
      const n = chunk.copy(buf, this.fill, off, Math.min(chunk.length, off + room));
      this.fill += n;
      off += n;
      if (n === room) await this.flush();
    }
  }

  /** Waits for the batch in flight, then starts writing what is gathered. */
  private async flush(): Promise<void> {
    await this.writing;
    if (this.fill === 0) return;
    const batch = this.buffers[this.current]!.subarray(0, this.fill);
    const at = this.position;
    this.position += this.fill;
    this.unsynced += this.fill;
    this.fill = 0;
    this.current ^= 1;
    this.writing = writeFully(this.fh, batch, at).then(() => this.syncInBackground());
    this.writing.catch(() => {});
  }

  private syncInBackground(): void {
    if (this.syncing || this.unsynced < this.syncEvery) return;
    this.unsynced = 0;
    this.syncing = this.fh.datasync().finally(() => {
      this.syncing = null;
    });
    this.syncing.catch(() => {});
  }

  /** Writes what is left and fsyncs: everything written is durable when this resolves. */
  async finish(): Promise<void> {
    try {
      await this.flush();
      await this.writing;
      await this.syncing;
      await this.fh.sync();
    } finally {
      this.share.release();
    }
  }

  /** Drops what is gathered and waits for the writes and syncs in flight (errors ignored). */
  async abandon(): Promise<void> {
    this.fill = 0;
    this.share.release();
    await this.writing?.catch(() => {});
    await this.syncing?.catch(() => {});
  }
}

async function writeFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  for (let off = 0; off < buf.length;) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    off += bytesWritten;
  }
}

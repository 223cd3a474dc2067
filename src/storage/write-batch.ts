/**
 * How many bytes a durable writer gathers into one `writev` (with one more batch in flight while the
 * next is sealed). A lone transfer gets 1 MiB batches, few system calls; transfers running at the
 * same time share a fixed budget, so 20 concurrent uploads hold about 16 MB of batches instead of 40.
 */
const MAX_BATCH_BYTES = 1024 * 1024;
const MIN_BATCH_BYTES = 128 * 1024;
const BUDGET_BYTES = 8 * 1024 * 1024;

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

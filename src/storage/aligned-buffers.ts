/**
 * Buffers whose memory starts on a 4 KiB boundary, for writes that bypass the page cache (O_DIRECT:
 * the device reads straight from the buffer, so buffer, file offset and length must be aligned).
 *
 * Node has no aligned allocation, but a WebAssembly.Memory's backing store is allocated in whole
 * pages, so slices of one at multiples of 4 KiB are aligned. A memory never shrinks and is never
 * grown here (growing would detach every buffer cut from it), so the pool is bounded: arenas of
 * ARENA_BYTES, each cut into buffers of one size, at most MAX_ARENAS of them. When none is free a
 * caller gets `null` and writes through the page cache instead.
 */
export const ALIGN = 4096;
const WASM_PAGE = 64 * 1024;
const ARENA_BYTES = 8 * 1024 * 1024;
const MAX_ARENAS = 4;

const free = new Map<number, Buffer[]>();
const arenas: WebAssembly.Memory[] = [];

/** Two aligned buffers of `size` bytes (a multiple of 64 KiB, at most 8 MiB), or null when the pool is spent. */
export function takeAlignedPair(size: number): [Buffer, Buffer] | null {
  if (size % WASM_PAGE !== 0 || size > ARENA_BYTES)
    throw new RangeError(`aligned buffers come in 64 KiB steps up to 8 MiB, not ${size}`);
  const list = free.get(size) ?? [];
  free.set(size, list);
  while (list.length < 2) {
    if (arenas.length >= MAX_ARENAS) return null;
    let memory: WebAssembly.Memory;
    try {
      memory = new WebAssembly.Memory({ initial: ARENA_BYTES / WASM_PAGE, maximum: ARENA_BYTES / WASM_PAGE });
    } catch {
      return null; // no address space for it: the caller writes through the page cache
    }
    arenas.push(memory);
    for (let off = 0; off + size <= ARENA_BYTES; off += size) list.push(Buffer.from(memory.buffer, off, size));
  }
  return [list.pop()!, list.pop()!];
}

/** Returns buffers from `takeAlignedPair`; only once no write is reading them any more. */
export function giveAligned(buffers: Buffer[]): void {
  for (const b of buffers) free.get(b.length)!.push(b);
}

/** Buffers free now, of every size (tests). */
export function freeAlignedBuffers(): number {
  let n = 0;
  for (const list of free.values()) n += list.length;
  return n;
}

/** Test data for the benchmarks. */
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';

const MiB = 1024 * 1024;

/** Random bytes into `file` (8 MiB at a time, not fsynced: it is read back from the page cache, as nginx will). */
export function writeRandomFile(file: string, bytes: number): void {
  const fd = openSync(file, 'w', 0o600);
  const buf = Buffer.allocUnsafe(8 * MiB);
  try {
    for (let off = 0; off < bytes; off += buf.length) {
      const n = Math.min(buf.length, bytes - off);
      randomFillSync(buf, 0, n);
      writeSync(fd, buf, 0, n);
    }
  } finally {
    closeSync(fd);
  }
}

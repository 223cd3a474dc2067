import { describe, expect, it } from 'vitest';
import { activeWriters, openWriteBatch } from './write-batch.js';

describe('write batches shared by concurrent transfers', () => {
  it('gives a lone writer 1 MiB, shrinks while others write, and never goes under 128 KiB', () => {
    const first = openWriteBatch();
    expect(first.bytes()).toBe(1024 * 1024);
    const others = Array.from({ length: 19 }, () => openWriteBatch());
    // 20 writers share 8 MiB: about 410 KiB each.
    expect(first.bytes()).toBe(Math.floor((8 * 1024 * 1024) / 20));
    const many = Array.from({ length: 100 }, () => openWriteBatch());
    expect(first.bytes()).toBe(128 * 1024);
    for (const w of [...others, ...many]) w.release();
    expect(first.bytes()).toBe(1024 * 1024);
    first.release();
  });

  it('counts a writer once however often it is released', () => {
    const before = activeWriters();
    const a = openWriteBatch();
    const b = openWriteBatch();
    a.release();
    a.release();
    expect(activeWriters()).toBe(before + 1);
    b.release();
    expect(activeWriters()).toBe(before);
  });
});

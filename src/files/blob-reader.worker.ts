/**
 * The blob reader thread (see blob-reader.ts): reads local blob files with synchronous reads, opens
 * their segments (AES-256-GCM, design §5), hashes the plaintext, and hands it to the event loop in
 * runs of eight segments, transferred without a copy. It serves every open stream round-robin, one
 * run at a time, and only as far as each stream's credit: the event loop gives credit back as the
 * response takes the runs, so a slow client holds at most CREDIT runs here.
 *
 * A whole-blob read with `verify` checks size and SHA-256 before it hands over the last run: a blob
 * that does not match its record never arrives whole.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import {
  HEADER_BYTES,
  openSegment,
  parseHeader,
  plaintextSize,
  segmentKey,
  SEGMENT_CIPHERTEXT_BYTES,
  SEGMENT_PLAINTEXT_BYTES,
} from '../crypto/blob-cipher.js';
import { createSha256, DecryptError, type Sha256Stream } from '../crypto/primitives.js';
import type { ReaderReply, ReaderRequest } from './blob-reader.js';

/** Segments per run handed over (512 KiB of plaintext). */
const RUN_SEGMENTS = 8;

interface Open {
  fd: number;
  /** Ciphertext bytes of the file and the offset of the next segment. */
  size: number;
  pos: number;
  key: Buffer;
  prefix: Buffer;
  index: number;
  segments: number;
  hash: Sha256Stream | null;
  verify: { sha256: string; size: number } | null;
  plainBytes: number;
  credit: number;
  /** The read buffer, one run of ciphertext, reused. */
  sealed: Buffer;
}

const port = parentPort!;
const open = new Map<number, Open>();
let scheduled = false;

port.on('message', (m: ReaderRequest) => {
  if (m.op === 'open') {
    try {
      open.set(m.id, start(m));
    } catch (err) {
      fail(m.id, err);
      return;
    }
  } else if (m.op === 'credit') {
    const s = open.get(m.id);
    if (s) s.credit += m.n;
  } else {
    const s = open.get(m.id);
    if (s) finish(m.id, s);
    return;
  }
  schedule();
});

function start(m: Extract<ReaderRequest, { op: 'open' }>): Open {
  const dek = Buffer.from(m.dek);
  let fd = -1;
  try {
    fd = openSync(m.path, 'r');
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(HEADER_BYTES);
    if (readFully(fd, head, 0) < HEADER_BYTES) throw new DecryptError('blob header is truncated');
    const header = parseHeader(head);
    const plain = plaintextSize(size);
    return {
      fd,
      size,
      pos: HEADER_BYTES,
      key: segmentKey(dek, header.salt, { tenantId: m.tenantId, blobId: m.blobId }),
      prefix: header.noncePrefix,
      index: 0,
      segments: Math.max(1, Math.ceil(plain / SEGMENT_PLAINTEXT_BYTES)),
      hash: m.verify ? createSha256() : null,
      verify: m.verify ?? null,
      plainBytes: 0,
      credit: m.credit,
      sealed: Buffer.allocUnsafeSlow(RUN_SEGMENTS * SEGMENT_CIPHERTEXT_BYTES),
    };
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    throw err;
  } finally {
    dek.fill(0);
    m.dek.fill(0);
  }
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  // setImmediate, not a loop: credit and cancel messages are taken between runs.
  setImmediate(pump);
}

function pump(): void {
  scheduled = false;
  let more = false;
  for (const [id, s] of open) {
    if (s.credit <= 0) continue;
    try {
      run(id, s);
    } catch (err) {
      finish(id, s);
      fail(id, err);
      continue;
    }
    if (open.has(id) && s.credit > 0) more = true;
  }
  if (more) schedule();
}

/** Opens the next run of segments and hands it over (with `done` and the fd closed after the last). */
function run(id: number, s: Open): void {
  const count = Math.min(RUN_SEGMENTS, s.segments - s.index);
  const cipherBytes = Math.min(count * SEGMENT_CIPHERTEXT_BYTES, s.size - s.pos);
  const sealed = s.sealed.subarray(0, cipherBytes);
  if (readFully(s.fd, sealed, s.pos) < cipherBytes) throw new DecryptError('blob is truncated');
  s.pos += cipherBytes;
  // Each segment's plaintext is a buffer of its own, handed over as it is (no copy into a run buffer).
  const data: ArrayBuffer[] = [];
  for (let off = 0; off < cipherBytes; off += SEGMENT_CIPHERTEXT_BYTES) {
    const last = s.index === s.segments - 1;
    let plain = openSegment(s.key, s.prefix, s.index++, last, sealed.subarray(off, off + SEGMENT_CIPHERTEXT_BYTES));
    if (plain.byteOffset !== 0 || plain.buffer.byteLength !== plain.length) plain = Buffer.from(plain);
    s.plainBytes += plain.length;
    s.hash?.update(plain);
    data.push(plain.buffer as ArrayBuffer);
  }
  s.credit--;
  const done = s.index === s.segments;
  if (done) {
    finish(id, s);
    if (s.verify) {
      if (s.plainBytes !== s.verify.size) return fail(id, integrity(`size ${s.plainBytes} ≠ ${s.verify.size}`));
      if (s.hash!.digestHex() !== s.verify.sha256) return fail(id, integrity('sha256 mismatch'));
    }
  }
  const reply: ReaderReply = { id, data, done };
  port.postMessage(reply, data);
}

function finish(id: number, s: Open): void {
  open.delete(id);
  closeSync(s.fd);
  s.key.fill(0);
}

function fail(id: number, err: unknown): void {
  const e = err as NodeJS.ErrnoException;
  const reply: ReaderReply = { id, error: { name: e.name, message: e.message, code: e.code } };
  port.postMessage(reply);
}

function integrity(message: string): Error {
  const e = new Error(message);
  e.name = 'IntegrityError';
  return e;
}

function readFully(fd: number, buf: Buffer, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

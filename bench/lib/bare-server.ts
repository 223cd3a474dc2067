/**
 * A reference for the files benchmark, run as its own process: the least a Node.js HTTPS server
 * must do to take in or serve a file the way Kura does, and nothing else: no multipart parsing,
 * sessions, database, audit or stream plumbing. It shows what this machine allows a Node.js server
 * beside nginx and Kura, in the same run with the same client.
 *
 *   POST /api/v1/folders/inline/files   TLS + SHA-256 + AES-256-GCM per 64 KiB segment + write + fsync,
 *                                       all on the event loop (the body is taken as it comes, unparsed)
 *   POST /api/v1/folders/worker/files   the same, with SHA-256, AES-GCM and the writes on one worker thread
 *   POST /api/v1/folders/hashworker/files  AES-GCM and the writes on the event loop, only SHA-256 on a worker
 *   POST /api/v1/folders/discard/files  TLS only: the body is counted and dropped (what the client and
 *                                       TLS alone allow an upload on this machine)
 *   GET  /download                      read the file + AES-256-GCM per segment + SHA-256 + TLS
 * The upload paths are Kura's multipart upload path with the folder id naming the mode, so the
 * bench client sends exactly what it sends Kura.
 *
 * Usage: node --import tsx bench/lib/bare-server.ts CERT KEY FILE TMPDIR; prints `port N` when ready.
 * Bench code only: nothing here is part of Kura.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer, type ServerOptions } from 'node:https';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const [certFile, keyFile, file, tmp] = process.argv.slice(2) as [string, string, string, string];
const SEGMENT = 64 * 1024;
const RUN = 8 * SEGMENT;
const key = randomBytes(32);

function seal(index: number, plain: Buffer): Buffer[] {
  const iv = Buffer.alloc(12);
  iv.writeUInt32BE(index, 7);
  const c = createCipheriv('aes-256-gcm', key, iv);
  return [c.update(plain), c.final(), c.getAuthTag()];
}

/** The worker: hashes and seals runs handed over (transferred), appends them to its file, fsyncs at the end. */
const worker = new Worker(
  `
const { parentPort } = require('node:worker_threads');
const c = require('node:crypto');
const fs = require('node:fs');
const key = Buffer.from(${JSON.stringify(key.toString('hex'))}, 'hex');
let h = null, fd = -1, i = 0;
parentPort.on('message', (m) => {
  if (m.op === 'begin') { h = c.createHash('sha256'); fd = fs.openSync(m.path, 'w'); i = 0; return; }
  if (m.op === 'end') { fs.fsyncSync(fd); fs.closeSync(fd); fs.unlinkSync(m.path); parentPort.postMessage(h.digest('hex')); return; }
  const buf = Buffer.from(m.data, 0, m.length);
  h.update(buf);
  for (let o = 0; o < buf.length; o += ${SEGMENT}) {
    const iv = Buffer.alloc(12); iv.writeUInt32BE(i++, 7);
    const ci = c.createCipheriv('aes-256-gcm', key, iv);
    fs.writevSync(fd, [ci.update(buf.subarray(o, o + ${SEGMENT})), ci.final(), ci.getAuthTag()]);
  }
});`,
  { eval: true },
);

/** The hash-only worker: hashes the runs it is handed (transferred) and answers the digest at the end. */
const hasher = new Worker(
  `
const { parentPort } = require('node:worker_threads');
const c = require('node:crypto');
let h = null;
parentPort.on('message', (m) => {
  if (m.op === 'begin') { h = c.createHash('sha256'); return; }
  if (m.op === 'end') { parentPort.postMessage(h.digest('hex')); return; }
  h.update(Buffer.from(m.data, 0, m.length));
});`,
  { eval: true },
);

/**
 * Gathers the body into RUN-byte buffers (one copy, as Kura's segmenting costs) and hands each full
 * run, and the partial last one, to `take`, which returns the buffer to fill next (the same one, or a
 * fresh one when the run went to a worker). `onChunk` sees each chunk as it arrives; `done` the size.
 */
function inRuns(
  req: IncomingMessage,
  take: (run: Buffer, fill: number) => Buffer,
  done: (size: number) => void,
  onChunk?: (chunk: Buffer) => void,
): void {
  let run: Buffer = Buffer.allocUnsafeSlow(RUN);
  let fill = 0;
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    onChunk?.(chunk);
    size += chunk.length;
    for (let off = 0; off < chunk.length;) {
      const n = chunk.copy(run, fill, off);
      fill += n;
      off += n;
      if (fill === RUN) {
        run = take(run, fill);
        fill = 0;
      }
    }
  });
  req.on('end', () => {
    take(run, fill);
    done(size);
  });
}

/** Seals `run` segment by segment from `index` and writes it; returns the next segment index. */
function writeSealed(fd: number, index: number, run: Buffer, fill: number): number {
  for (let o = 0; o < fill; o += SEGMENT)
    for (const b of seal(index++, run.subarray(o, Math.min(fill, o + SEGMENT)))) writeSync(fd, b);
  return index;
}

/** Hands `run` to a worker without a copy and returns a fresh buffer to fill next. */
function transfer(to: Worker, run: Buffer, fill: number): Buffer {
  to.postMessage({ op: 'run', data: run.buffer, length: fill }, [run.buffer as ArrayBuffer]);
  return Buffer.allocUnsafeSlow(RUN);
}

function closeDurably(fd: number, path: string): void {
  fsyncSync(fd);
  closeSync(fd);
  unlinkSync(path);
}

let uploads = 0;
const tls: ServerOptions = {
  cert: readFileSync(certFile),
  key: readFileSync(keyFile),
  minVersion: 'TLSv1.3',
};
const server = createServer(tls, (req, res) => {
  const reply = (sha256: string, size: number) => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'bare', latest: { sha256, size, state: 'available' } }));
  };
  const path = join(tmp, `bare-${++uploads}.bin`);
  if (req.method === 'POST' && req.url === '/api/v1/folders/discard/files') {
    let size = 0;
    req.on('data', (chunk: Buffer) => void (size += chunk.length));
    req.on('end', () => reply('-', size));
  } else if (req.method === 'POST' && req.url === '/api/v1/folders/inline/files') {
    const fd = openSync(path, 'w');
    const hash = createHash('sha256');
    let index = 0;
    inRuns(
      req,
      (run, fill) => {
        index = writeSealed(fd, index, run, fill);
        return run;
      },
      (size) => {
        closeDurably(fd, path);
        reply(hash.digest('hex'), size);
      },
      (chunk) => hash.update(chunk),
    );
  } else if (req.method === 'POST' && req.url === '/api/v1/folders/hashworker/files') {
    const fd = openSync(path, 'w');
    hasher.postMessage({ op: 'begin' });
    let index = 0;
    inRuns(
      req,
      (run, fill) => {
        index = writeSealed(fd, index, run, fill);
        return transfer(hasher, run, fill);
      },
      (size) => {
        closeDurably(fd, path);
        hasher.postMessage({ op: 'end' });
        hasher.once('message', (sha256: string) => reply(sha256, size));
      },
    );
  } else if (req.method === 'POST' && req.url === '/api/v1/folders/worker/files') {
    worker.postMessage({ op: 'begin', path });
    inRuns(
      req,
      (run, fill) => transfer(worker, run, fill),
      (size) => {
        worker.postMessage({ op: 'end', path });
        worker.once('message', (sha256: string) => reply(sha256, size));
      },
    );
  } else if (req.method === 'GET' && req.url === '/download') {
    const hash = createHash('sha256');
    let index = 0;
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
    source.on('data', (chunk) => {
      const buf = chunk as Buffer;
      for (let o = 0; o < buf.length; o += SEGMENT) seal(index++, buf.subarray(o, o + SEGMENT)); // stands in for opening
      hash.update(buf);
      if (!res.write(buf)) {
        source.pause();
        res.once('drain', () => source.resume());
      }
    });
    source.on('end', () => res.end());
  } else {
    res.writeHead(404).end();
  }
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`port ${typeof address === 'object' && address ? address.port : 0}`);
});

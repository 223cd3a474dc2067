/**
 * Profiles one upload and one download of the same file through a real `kura serve` (from source,
 * or the build with BENCH_KURA_RUN=dist), no scanner: writes V8 CPU profiles of the server to
 * PROFILE_DIR (default /tmp/kura-prof) and prints MB/s and server CPU seconds per GB for each.
 *
 *   node --import tsx bench/profile-files.ts [multipart|tus|download ...]
 *
 * Ops: multipart, tus, tus8 (8 MiB PATCHes), concurrent (PROFILE_CONCURRENT simple uploads at once,
 * 20 by default, sharing the file), download, download-latency (the same, timing a folder listing
 * every 50 ms meanwhile), idle (30 s without requests, as before a download in
 * the full bench). Environment: PROFILE_MIB (1024), PROFILE_DIR, PROFILE_CPU=off (no
 * --cpu-prof, just the figures), PROFILE_NODE_ARGS (extra server flags, e.g. --trace-gc),
 * PROFILE_KEEP=1 (keep the temp dir with the server's log), PROFILE_CLAMD (tcp://host:port of a clamd:
 * uploads are really scanned, `scan` waits for it and downloads need it).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientProcess } from './lib/client-process.js';
import { buildKura, cleanupAll, cpuSeconds, onCleanup, warmFile } from './lib/processes.js';
import { blobPathOf, startKuraStack } from './lib/stack.js';

const MiB = 1024 * 1024;
const bytes = Number(process.env.PROFILE_MIB ?? 1024) * MiB;
const profDir = process.env.PROFILE_DIR ?? '/tmp/kura-prof';
/** The `concurrent` op: this many simple uploads at once, of an equal share of the file each (as the bench's 20). */
const CONCURRENT = Number(process.env.PROFILE_CONCURRENT ?? 20);
const ops = process.argv.slice(2).length ? process.argv.slice(2) : ['tus', 'multipart', 'download'];

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'kura-prof-'));
  if (process.env.PROFILE_KEEP) console.error(`keeping ${dir}`);
  else onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(profDir, { recursive: true });
  const file = join(dir, 'file.bin');
  const fd = openSync(file, 'w');
  const buf = Buffer.allocUnsafe(8 * MiB);
  for (let off = 0; off < bytes; off += buf.length) writeSync(fd, randomFillSync(buf));
  closeSync(fd);
  const main = process.env.BENCH_KURA_RUN === 'dist' ? buildKura(join(dir, 'build')).main : null;
  const nodeArgs = [
    ...(process.env.PROFILE_CPU === 'off' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]),
    ...(process.env.PROFILE_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ];
  const stack = await startKuraStack(join(dir, 'kura'), {
    main,
    clamd: process.env.PROFILE_CLAMD ?? 'tcp://127.0.0.1:1',
    nodeArgs,
  });
  const client = ClientProcess.start();
  const s = stack.session;
  const spec = { host: '127.0.0.1', port: stack.kura.port, cookie: s.cookie, csrf: s.csrf };
  const source = { file, fileSize: bytes, length: bytes };
  let fileId = '';
  for (const op of ops) {
    await warmFile(file);
    if (op === 'download' && fileId) await warmFile(blobPathOf(stack.dataDir, fileId));
    const th0 = threads(stack.kura.pid);
    const c0 = cpuSeconds(stack.kura.pid);
    const f0 = minorFaults(stack.kura.pid);
    const t0 = performance.now();
    if (op === 'scan') {
      // With PROFILE_CLAMD: wait until the last upload's scan made it available (as the full bench does).
      while (!(await isAvailable(stack.dataDir, fileId))) await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    if (op === 'idle') {
      await new Promise((r) => setTimeout(r, 30_000));
      continue;
    }
    if (op === 'tus') fileId = (await client.uploadTus(spec, stack.folderId, `t${Date.now()}.bin`, source, bytes)).fileId;
    else if (op === 'tus8') fileId = (await client.uploadTus(spec, stack.folderId, `t${Date.now()}.bin`, source, 8 * MiB)).fileId;
    else if (op === 'multipart')
      fileId = (await client.uploadMultipart(spec, stack.folderId, `m${Date.now()}.bin`, source)).fileId;
    else if (op === 'concurrent') {
      const each = Math.floor(bytes / CONCURRENT / MiB) * MiB;
      const uploads = Array.from({ length: CONCURRENT }, (_, i) => ({
        name: `c${Date.now()}-${i}.bin`,
        source: { ...source, length: each, offset: i * each },
      }));
      fileId = (await client.concurrent(spec, stack.folderId, uploads)).rs[0]!.fileId;
    } else if (op === 'download' || op === 'download-latency') {
      // Without a scanner nothing becomes available: the bench's session cannot download. Mark it clean directly.
      if (!process.env.PROFILE_CLAMD) await markAvailable(stack.dataDir, fileId);
      const download = client.download('127.0.0.1', stack.kura.port, `/api/v1/files/${fileId}/content`, {
        cookie: s.cookie,
      });
      if (op === 'download-latency') {
        // What a colleague browsing meanwhile sees: a folder listing every 50 ms while the download runs.
        let running = true;
        void download.finally(() => (running = false));
        const ms: number[] = [];
        while (running) {
          const t = performance.now();
          await apiGet(stack.kura.port, '/api/v1/folders/roots', s.cookie);
          ms.push(performance.now() - t);
          await new Promise((r) => setTimeout(r, 50));
        }
        ms.sort((a, b) => a - b);
        const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(1);
        console.log(`   folder listing during the download: ${ms.length} requests, median ${q(0.5)} ms, p95 ${q(0.95)} ms`);
      }
      await download;
    }
    const sec = (performance.now() - t0) / 1000;
    const cpu = cpuSeconds(stack.kura.pid) - c0;
    const faults = minorFaults(stack.kura.pid) - f0;
    console.log(
      `${op}: ${(bytes / 1e6 / sec).toFixed(0)} MB/s, server ${(cpu / (bytes / 1e9)).toFixed(2)} CPU-s/GB, ` +
        `${Math.round(faults / (bytes / 1e9))} minor page faults/GB`,
    );
    const th1 = threads(stack.kura.pid);
    const per = new Map<string, { u: number; s: number }>();
    for (const [tid, t] of th1) {
      const a = th0.get(tid) ?? { name: t.name, u: 0, s: 0 };
      const k = tid === stack.kura.pid ? 'main' : t.name;
      const e = per.get(k) ?? { u: 0, s: 0 };
      e.u += t.u - a.u;
      e.s += t.s - a.s;
      per.set(k, e);
    }
    for (const [k, v] of per)
      if (v.u + v.s > 0.02) console.log(`   ${k.padEnd(18)} user ${v.u.toFixed(2)} sys ${v.s.toFixed(2)}`);
  }
  await client.stop();
  await stack.kura.stop();
}

/** A GET over HTTPS (self-signed) with the session cookie; resolves when the body is read. */
function apiGet(port: number, path: string, cookie: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpsGet({ host: '127.0.0.1', port, path, headers: { cookie }, rejectUnauthorized: false }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

/** Minor page faults of the process so far (fresh pages the kernel had to map: costly on some VMs). */
function minorFaults(pid: number): number {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[7]);
}

function threads(pid: number): Map<number, { name: string; u: number; s: number }> {
  const out = new Map<number, { name: string; u: number; s: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), { name, u: Number(f[11]) / 100, s: Number(f[12]) / 100 });
    } catch {
      /* gone */
    }
  }
  return out;
}

async function isAvailable(dataDir: string, fileId: string): Promise<boolean> {
  const { default: Db } = await import('better-sqlite3');
  const db = new Db(join(dataDir, 'kura.db'), { readonly: true });
  try {
    const row = db.prepare(`select state from file_versions where file_id = ? order by version desc`).get(fileId) as
      { state: string } | undefined;
    return row?.state === 'available';
  } finally {
    db.close();
  }
}

async function markAvailable(dataDir: string, fileId: string) {
  const { default: Db } = await import('better-sqlite3');
  const db = new Db(join(dataDir, 'kura.db'));
  db.prepare(`update file_versions set state = 'available' where file_id = ?`).run(fileId);
  db.close();
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());

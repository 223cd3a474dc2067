/**
 * Files benchmarks (issue 4), every figure beside a ceiling measured in the same run on the same
 * machine and the same bytes. A real `kura serve` (TLS, SQLite, local blob store, job worker on)
 * and, next to it, nginx serving the same file over HTTPS (TLS 1.3, self-signed P-256, loopback,
 * its own config in a temp dir) and a clamd of our own (DisableCache yes). One client for all
 * HTTP figures: node:https reading to nowhere (bench/lib/client.ts).
 *
 *   files.download          Kura download MB/s (TLS + decrypt + SHA-256 verify) ÷ nginx download MB/s   ≥ 0.8
 *   files.upload.multipart  simple upload MB/s, first byte → 201 (TLS + SHA-256 + encrypt + fsync) ÷ nginx   ≥ 0.5
 *   files.upload.tus        tus upload MB/s, creation → last PATCH answer, in the web UI's 8 MiB chunks
 *                           and in one PATCH (tus-js-client's default) ÷ nginx                            ≥ 0.5
 *   files.rss.*             peak RSS of the server process while a 2 GiB file is uploaded and downloaded  < 300 MB
 *   files.concurrent        20 concurrent 50 MiB simple uploads: time, and peak RSS                        < 300 MB
 *   files.scan              upload end → `available` for a 100 MiB file ÷ clamd's own INSTREAM time for it (info)
 *   files.bare.*            (info) the same client against bench/lib/bare-server.ts, a Node.js HTTPS server
 *                           doing only Kura's crypto floor and write (no parsing, auth, database, audit):
 *                           what any Node.js implementation could reach on this machine, ÷ nginx
 *
 * The download half of the RSS figure uses the largest file clamd can
 * scan (2 GiB − 1 MiB, zero bytes: clamd refuses anything over 2 GiB − 1 byte, and answers some
 * random files of that size with Heuristics.Limits.Exceeded.MaxScanSize, so neither could become
 * downloadable); the upload half also sends exactly BENCH_FILES_RSS_MIB (default 2048) of random
 * data through tus, with KURA_UPLOAD_MAX_BYTES raised to 3 GiB. Every uploaded file's recorded
 * SHA-256 is checked against the client's, and every Kura download's byte count and X-Kura-SHA256.
 *
 * Each upload's scan is waited for before the next measurement, so a background scan never shares
 * the two cores with a measured transfer, and every timed transfer starts with its file (nginx's,
 * the client's source, Kura's blob) in the page cache: this machine pages out memory unused for
 * about a minute (DAMON), so a blob written a minute earlier would otherwise come from the disk.
 * The server runs as production runs it (tsc build, `node dist/main.js serve`).
 *
 *   node --import tsx bench/files.ts       (or npm run bench, which runs this after the others)
 *
 * Environment: BENCH_FILES_MIB (1024) size of the test file · BENCH_FILES_RSS_MIB (2048) ·
 * BENCH_FILES_RUNS (3) download runs per server · BENCH_FILES_TUS_CHUNK_MIB (8) ·
 * BENCH_FILES_CONCURRENT (20) × BENCH_FILES_CONCURRENT_MIB (50) · BENCH_FILES_SCAN_MIB (100) ·
 * BENCH_FILES_SCAN_RUNS (3) · BENCH_JOBS_POLL_MS (Kura's default, 1000) · BENCH_CLAMD
 * (tcp://host:port of a running clamd instead of our own) · BENCH_TMPDIR (os.tmpdir()) ·
 * BENCH_FILES_OUTPUT (.bench-output/files.json) · BENCH_KURA_RUN=tsx (run the server from source) ·
 * BENCH_KURA_NODE_ARGS (extra node flags for the server, e.g. --no-memory-reducer or --cpu-prof) ·
 * BENCH_KURA_TRACE_GC=off (the server otherwise runs with --trace-gc, whose lines in its log give
 * the full/young GC counts per phase) · BENCH_KEEP_TMP=1 (keep the temp dir and logs).
 */
import { writeRandomFile } from './lib/data.js';
import { execFile, execFileSync } from 'node:child_process';
import { createHash, type Hash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
/** The largest file clamd still scans whole (2 GiB − 1 MiB); the server runs with a 3 GiB upload limit. */
const CLAMD_SCANNABLE_BYTES = 2 * 1024 ** 3 - 1024 ** 2;
import { FileSource, type DownloadResult, type KuraSession } from './lib/client.js';
import { ClientProcess, type SessionSpec, type SourceSpec, type UploadResult } from './lib/client-process.js';
import {
  cleanupAll,
  onCleanup,
  REPO,
  selfSignedCert,
  SERVER_NODE_FLAGS,
  startClamd,
  startBareServer,
  startNginx,
  buildKura,
  statusBytes,
  warmFile,
} from './lib/processes.js';
import { instream } from './lib/instream.js';
import { ProcessMonitor, type PhaseStats } from './lib/rss.js';
import { blobPathOf, scanDiagnostics, startKuraStack } from './lib/stack.js';

const MiB = 1024 * 1024;
const MB = 1e6;

function num(name: string, def: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
}

/**
 * The fastest any server doing Kura's work could go on this machine: the client and the server
 * share its cores, so MB/s ≤ cores ÷ (client CPU-s/GB + the server's crypto floor CPU-s/GB), even
 * with perfect use of every core and zero overhead. When that bound is below a target's MB/s, the
 * target cannot be met on this machine whatever the code does (the report says so).
 */
function machineBound(
  cores: number,
  floorCpuPerGB: number,
  nginxMBps: number,
  clientCpuPerGB: { download: number; uploadMultipart: number },
): {
  cores: number;
  floorCpuPerGB: number;
  rows: Record<string, { boundMBps: number; targetMBps: number; reachable: boolean }>;
  lines: string[];
} {
  const rows: Record<string, { boundMBps: number; targetMBps: number; reachable: boolean }> = {};
  const lines: string[] = [];
  for (const [name, client, target] of [
    ['download', clientCpuPerGB.download, 0.8],
    ['upload', clientCpuPerGB.uploadMultipart, 0.5],
  ] as const) {
    const boundMBps = round((cores * 1000) / (client + floorCpuPerGB), 0);
    const targetMBps = round(nginxMBps * target, 0);
    rows[name] = { boundMBps, targetMBps, reachable: boundMBps >= targetMBps };
    lines.push(
      `${name}: target ${target} × nginx = ${targetMBps} MB/s; machine bound ${boundMBps} MB/s = ${cores} cores ÷ (client ${client.toFixed(2)} + Kura crypto floor ${floorCpuPerGB} CPU-s/GB)` +
        (boundMBps < targetMBps ? ' — not reachable on this machine by any implementation' : ''),
    );
  }
  return { cores, floorCpuPerGB, rows, lines };
}

export interface FilesBenchRow {
  bench: string;
  figure: string;
  value: number;
  unit: string;
  ceiling: number | null;
  ceilingName: string;
  ratio: number | null;
  target: string;
  result: 'PASS' | 'FAIL' | 'info';
  note?: string;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const round = (x: number, d = 3) => +x.toFixed(d);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => console.error(`[files] ${line}`);

/**
 * CPU cost of the unavoidable work per GB on this machine, in this run (the bench process, one
 * core, after a warm-up): AES-256-GCM as one stream (what TLS records cost), AES-256-GCM with a
 * cipher per 64 KiB segment (the blob format), and SHA-256. A Kura download needs at least
 * segmented decrypt + SHA-256 + TLS encrypt on its one event-loop thread, nginx only the TLS encrypt.
 */
function primitiveCpuSecondsPerGB(): { aesGcmStream: number; aesGcmSegments: number; sha256: number } {
  // In a fresh node process: this one's heap (Kura's modules, other benchmarks) would add its own GC work.
  const script = `
    import { createCipheriv, createHash, randomBytes } from 'node:crypto';
    const seg = 65536, total = 256 * 1024 * 1024;
    const buf = randomBytes(4 * 1024 * 1024), key = randomBytes(32), iv = randomBytes(12);
    const slice = (o) => buf.subarray(o % buf.length, (o % buf.length) + seg);
    const cpu = (fn) => { fn(); const c0 = process.cpuUsage(); fn(); const c = process.cpuUsage(c0); return +((c.user + c.system) / 1e6 / (total / 1e9)).toFixed(3); };
    const aesGcmStream = cpu(() => { const c = createCipheriv('aes-256-gcm', key, iv); for (let o = 0; o < total; o += seg) c.update(slice(o)); c.final(); });
    const aesGcmSegments = cpu(() => { for (let o = 0; o < total; o += seg) { const c = createCipheriv('aes-256-gcm', key, iv); c.update(slice(o)); c.final(); c.getAuthTag(); } });
    const sha256 = cpu(() => { const h = createHash('sha256'); for (let o = 0; o < total; o += seg) h.update(slice(o)); h.digest(); });
    console.log(JSON.stringify({ aesGcmStream, aesGcmSegments, sha256 }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  return JSON.parse(out) as { aesGcmStream: number; aesGcmSegments: number; sha256: number };
}

/** SHA-256 (hex) of the source's first `n` bytes for each n in `lengths`, in one pass. */
async function prefixHashes(source: FileSource, lengths: number[]): Promise<Map<number, string>> {
  const wanted = [...new Set(lengths)].sort((a, b) => a - b);
  const out = new Map<number, string>();
  const h: Hash = createHash('sha256');
  let pos = 0;
  let i = 0;
  for await (const chunk of source.read(0, wanted.at(-1)!)) {
    let c = chunk;
    while (i < wanted.length && pos + c.length >= wanted[i]!) {
      const k = wanted[i]! - pos;
      h.update(c.subarray(0, k));
      pos += k;
      c = c.subarray(k);
      out.set(wanted[i]!, h.copy().digest('hex'));
      i++;
    }
    h.update(c);
    pos += c.length;
  }
  return out;
}

async function sha256Of(source: FileSource): Promise<string> {
  return (await prefixHashes(source, [source.length])).get(source.length)!;
}

/**
 * Waits until none of the files is `held` (its scan done) or `timeoutMs` passes; returns what did
 * not become `available` (quarantined, damaged, or still held with the scan's last result).
 */
async function waitScanned(s: KuraSession, ids: string[], timeoutMs: number, pollMs = 500): Promise<string[]> {
  const start = Date.now();
  const pending = new Set(ids);
  const problems: string[] = [];
  for (;;) {
    for (const id of [...pending]) {
      const f = await s.ok('GET', `/api/v1/files/${id}`);
      const state = f.latest.state as string;
      // A scan that ended in an error the queue will not retry (too large for clamd) leaves the file held for good.
      const final = state === 'held' && String(f.latest.scan.result ?? '').startsWith('error:too_large');
      if (state === 'held' && !final && Date.now() - start <= timeoutMs) continue;
      if (state !== 'available') problems.push(`${f.name}: ${state}, scan ${JSON.stringify(f.latest.scan)}`);
      pending.delete(id);
    }
    if (!pending.size) return problems;
    await sleep(pollMs);
  }
}

/** Scan budget: clamd does ~65 MiB/s on random data here; allow a third of that plus a margin. */
const scanTimeout = (bytes: number) => 60_000 + (bytes / (20 * MiB)) * 1000;

async function curlDownload(
  url: string,
  headers: Record<string, string>,
): Promise<{ mbPerSecond: number; bytes: number; status: number } | null> {
  try {
    const args = ['-sk', '--http1.1', '-o', '/dev/null', '-w', '%{http_code} %{size_download} %{speed_download}', url];
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    const { stdout } = await promisify(execFile)('curl', args);
    const [status, bytes, speed] = stdout.trim().split(' ').map(Number);
    return { status: status!, bytes: bytes!, mbPerSecond: speed! / MB };
  } catch {
    return null;
  }
}

export async function runFilesBench(): Promise<FilesBenchRow[]> {
  const cfg = {
    fileBytes: Math.round(num('BENCH_FILES_MIB', 1024) * MiB),
    rssUploadBytes: Math.round(num('BENCH_FILES_RSS_MIB', 2048) * MiB),
    runs: Math.round(num('BENCH_FILES_RUNS', 3)),
    tusChunkBytes: Math.round(num('BENCH_FILES_TUS_CHUNK_MIB', 8) * MiB),
    concurrent: Math.round(num('BENCH_FILES_CONCURRENT', 20)),
    concurrentBytes: Math.round(num('BENCH_FILES_CONCURRENT_MIB', 50) * MiB),
    scanBytes: Math.round(num('BENCH_FILES_SCAN_MIB', 100) * MiB),
    scanRuns: Math.round(num('BENCH_FILES_SCAN_RUNS', 3)),
    jobsPollMs: process.env.BENCH_JOBS_POLL_MS ? Math.round(num('BENCH_JOBS_POLL_MS', 1000)) : null,
    rssLimitBytes: 300 * MB,
    output: process.env.BENCH_FILES_OUTPUT ?? join(REPO, '.bench-output', 'files.json'),
  };
  // The largest file that can become downloadable: Kura's default limit, under clamd's 2 GiB − 1 byte.
  const rssDownloadBytes = Math.min(cfg.rssUploadBytes, CLAMD_SCANNABLE_BYTES);
  const started = Date.now();
  const loadavgAtStart = readFileSync('/proc/loadavg', 'utf8').trim();

  const dir = mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), 'kura-bench-files-'));
  if (process.env.BENCH_KEEP_TMP) console.error(`[files] keeping ${dir} (BENCH_KEEP_TMP)`);
  else onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const rows: FilesBenchRow[] = [];
  const details: Record<string, unknown> = { loadavgAtStart };
  let phaseSummary: PhaseSummary[];
  try {
    // ---- the server as production runs it (tsc build → node dist/main.js), unless BENCH_KURA_RUN=tsx ----
    const fromSource = process.env.BENCH_KURA_RUN === 'tsx';
    let main: string | null = null;
    if (!fromSource) {
      const t0 = performance.now();
      const built = buildKura(join(dir, 'build'));
      main = built.main;
      details.build = {
        seconds: round((performance.now() - t0) / 1000, 1),
        tscDiagnostics: built.diagnostics ? built.diagnostics.split('\n').length : 0,
      };
      log(
        `server compiled with tsc in ${((performance.now() - t0) / 1000).toFixed(1)} s${built.diagnostics ? ` (tsc reported: ${built.diagnostics.split('\n')[0]})` : ''}`,
      );
    }
    const flags = SERVER_NODE_FLAGS.join(' ');
    details.serverRunAs = fromSource
      ? `node ${flags} --import tsx src/main.ts serve`
      : `node ${flags} dist/main.js serve (tsc -p tsconfig.build.json)`;

    // ---- data ----
    const www = join(dir, 'www');
    mkdirSync(www);
    const file = join(www, 'file.bin');
    const primitives = primitiveCpuSecondsPerGB();
    details.primitiveCpuSecondsPerGB = primitives;
    const t = performance.now();
    writeRandomFile(file, cfg.fileBytes);
    const scanFile = join(dir, 'scan.bin');
    writeRandomFile(scanFile, cfg.scanBytes);
    const srcSpec = (length: number, offset = 0): SourceSpec => ({ file, fileSize: cfg.fileBytes, length, offset });
    const src = (length: number, offset = 0) => new FileSource(file, cfg.fileBytes, length, offset);
    const hashes = await prefixHashes(src(Math.max(cfg.fileBytes, cfg.rssUploadBytes)), [cfg.fileBytes, cfg.rssUploadBytes]);
    // The 2 GiB simple upload + download carries zero bytes: clamd answers some ~2 GiB random files
    // with Heuristics.Limits.Exceeded.MaxScanSize (embedded-object rescans push the scanned total
    // past its 4000M maximum), which would leave the file held and its download unmeasurable.
    // Kura's memory does not depend on the content; the exact-2 GiB tus upload keeps random data.
    const zeroFile = join(dir, 'zeros.bin');
    writeFileSync(zeroFile, Buffer.alloc(64 * MiB));
    const zeros = (length: number) => new FileSource(zeroFile, 64 * MiB, length);
    const zerosSpec = (length: number): SourceSpec => ({ file: zeroFile, fileSize: 64 * MiB, length });
    const zeroHash = await sha256Of(zeros(rssDownloadBytes));
    const sliceHashes = await Promise.all(
      Array.from({ length: cfg.concurrent }, (_, i) => sha256Of(src(cfg.concurrentBytes, i * cfg.concurrentBytes))),
    );
    const scanSource = new FileSource(scanFile, cfg.scanBytes, cfg.scanBytes);
    const scanHash = await sha256Of(scanSource);
    log(`test data ready in ${((performance.now() - t) / 1000).toFixed(1)} s (${cfg.fileBytes / MiB} MiB file in ${dir})`);

    // ---- servers ----
    const { certFile, keyFile } = selfSignedCert(dir);
    mkdirSync(join(dir, 'nginx'));
    const nginx = await startNginx(join(dir, 'nginx'), { root: www, certFile, keyFile });
    mkdirSync(join(dir, 'clamd'));
    const clamd = await startClamd(join(dir, 'clamd'), process.env.BENCH_CLAMD);

    // --trace-gc only logs (to the server's log file): it lets the report count full GCs per phase.
    const nodeArgs = [
      ...(process.env.BENCH_KURA_TRACE_GC === 'off' ? [] : ['--trace-gc']),
      ...(process.env.BENCH_KURA_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ];
    details.serverNodeArgs = nodeArgs;
    const stack = await startKuraStack(join(dir, 'kura'), { main, clamd: clamd.address, jobsPollMs: cfg.jobsPollMs, nodeArgs });
    const { kura, session: s, jobsPollMs } = stack;
    const folder = { id: stack.folderId };
    log(`nginx :${nginx.port}, clamd ${clamd.address} (cache ${clamd.cache}), kura serve pid ${kura.pid} :${kura.port}`);
    const clamdLog = clamd.pid ? join(dir, 'clamd', 'clamd.log') : null;
    const scanProblems: string[] = [];
    /** Cold reads seen while warming (MB/s of the warming read; < 2000 means it came from the disk). */
    const warmups: Array<{ what: string; mbPerSecond: number }> = [];
    const warm = async (what: string, path: string) => {
      warmups.push({ what, mbPerSecond: round(await warmFile(path), 0) });
    };
    const warmBlob = (what: string, fileId: string) => warm(what, blobPathOf(stack.dataDir, fileId));
    /** Waits for scans between measurements; a file that does not become available is noted, not fatal. */
    const drainScans = async (ids: string[], bytes: number) => {
      const problems = await waitScanned(s, ids, scanTimeout(bytes));
      if (problems.length) log(`scan problem(s): ${problems.join('; ')}`);
      scanProblems.push(...problems);
      return problems;
    };

    // The client runs in a lean process of its own (its GC and CPU apart from this one's).
    const client = ClientProcess.start();
    const as = (): SessionSpec => ({ host: '127.0.0.1', port: kura.port, cookie: s.cookie, csrf: s.csrf });
    const monitor = new ProcessMonitor(
      kura.pid,
      () => [...nginx.workers(), ...(clamd.pid ? [clamd.pid] : [])],
      nodeArgs.includes('--trace-gc') ? kura.logFile : null,
      client.pid,
    );
    details.serverIdleRssMB = round((statusBytes(kura.pid, 'VmRSS') ?? 0) / MB, 1);
    monitor.start(100);
    onCleanup(() => monitor.stop());
    const checkSha = (what: string, got: string, want: string) => {
      if (got !== want) throw new Error(`${what}: recorded SHA-256 ${got} ≠ the client's ${want}`);
    };
    const fileHash = hashes.get(cfg.fileBytes)!;

    // ---- 1. uploads of the test file ----
    await warm('source', file);
    const mp = await monitor.phase('upload.multipart', () =>
      client.uploadMultipart(as(), folder.id, 'upload-multipart.bin', srcSpec(cfg.fileBytes)),
    );
    checkSha('multipart upload', mp.value.sha256!, fileHash);
    log(`multipart upload ${mp.value.mbPerSecond.toFixed(0)} MB/s; waiting for its scan`);
    const mpScan = await monitor.phase('scan.wait', () => drainScans([mp.value.fileId], cfg.fileBytes));
    if (mpScan.value.length)
      throw new Error(`the test file did not become available, so nothing can be downloaded: ${mpScan.value.join('; ')}`);

    const tusRuns: Array<{ label: string; chunk: number; r: UploadResult; stats: PhaseStats }> = [];
    for (const [label, chunk] of [
      [`${cfg.tusChunkBytes / MiB} MiB PATCHes (web UI)`, cfg.tusChunkBytes],
      ['one PATCH (tus-js-client default)', cfg.fileBytes],
    ] as const) {
      const name = `upload-tus-${chunk}.bin`;
      await warm('source', file);
      const r = await monitor.phase(`upload.tus.${chunk === cfg.fileBytes ? 'single' : 'chunked'}`, () =>
        client.uploadTus(as(), folder.id, name, srcSpec(cfg.fileBytes), chunk),
      );
      const detail = await s.ok('GET', `/api/v1/files/${r.value.fileId}`);
      checkSha(`tus upload (${label})`, detail.latest.sha256, fileHash);
      tusRuns.push({ label, chunk, r: r.value, stats: r.stats });
      log(`tus upload, ${label}: ${r.value.mbPerSecond.toFixed(0)} MB/s in ${r.value.patches} PATCHes; waiting for its scan`);
      await monitor.phase('scan.wait', () => drainScans([r.value.fileId], cfg.fileBytes));
    }

    // ---- 2. downloads: nginx and Kura alternating on the same bytes, same client ----
    const nginxRuns: Array<{ r: DownloadResult; stats: PhaseStats }> = [];
    const kuraRuns: Array<{ r: DownloadResult; stats: PhaseStats }> = [];
    for (let i = 0; i < cfg.runs; i++) {
      const order = i % 2 === 0 ? (['nginx', 'kura'] as const) : (['kura', 'nginx'] as const);
      for (const who of order) {
        if (who === 'nginx') {
          await warm('nginx file', file);
          const { value: r, stats } = await monitor.phase('download.nginx', () =>
            client.download('127.0.0.1', nginx.port, '/file.bin'),
          );
          if (r.status !== 200 || r.bytes !== cfg.fileBytes) throw new Error(`nginx download: ${r.status}, ${r.bytes} bytes`);
          nginxRuns.push({ r, stats });
        } else {
          await warmBlob('kura blob', mp.value.fileId);
          const { value: r, stats } = await monitor.phase('download', () =>
            client.download('127.0.0.1', kura.port, `/api/v1/files/${mp.value.fileId}/content`, s.headers()),
          );
          if (r.status !== 200 || r.bytes !== cfg.fileBytes) throw new Error(`kura download: ${r.status}, ${r.bytes} bytes`);
          if (r.headers['x-kura-sha256'] !== fileHash) throw new Error('kura download: X-Kura-SHA256 differs from the file');
          kuraRuns.push({ r, stats });
        }
      }
    }
    const nginxMBps = median(nginxRuns.map((x) => x.r.mbPerSecond));
    const kuraMBps = median(kuraRuns.map((x) => x.r.mbPerSecond));
    log(
      `downloads: nginx ${nginxRuns.map((x) => x.r.mbPerSecond.toFixed(0)).join('/')} MB/s, kura ${kuraRuns.map((x) => x.r.mbPerSecond.toFixed(0)).join('/')} MB/s`,
    );
    // The same two downloads with curl, as a second client (info: shows whether the Node client limits both).
    await warm('nginx file', file);
    const curlNginx = await curlDownload(`https://127.0.0.1:${nginx.port}/file.bin`, {});
    await warmBlob('kura blob', mp.value.fileId);
    const curlKura = await monitor
      .phase('download.curl', () =>
        curlDownload(`https://127.0.0.1:${kura.port}/api/v1/files/${mp.value.fileId}/content`, s.headers()),
      )
      .then((r) => r.value);

    // ---- 2b. the bare Node.js reference: only TLS + SHA-256 + AES-GCM + write, nothing of Kura's (info) ----
    const bare = await startBareServer({ certFile, keyFile, file, tmp: join(dir, 'bare') });
    const bareSpec = (): SessionSpec => ({ host: '127.0.0.1', port: bare.port, cookie: 'bench=bare', csrf: 'bare' });
    const bareRuns: Record<'discard' | 'inline' | 'hashworker' | 'worker' | 'download', number[]> = {
      discard: [],
      inline: [],
      hashworker: [],
      worker: [],
      download: [],
    };
    for (let i = 0; i < 2; i++) {
      for (const mode of ['discard', 'inline', 'hashworker', 'worker'] as const) {
        await warm('source', file);
        const r = await client.uploadMultipart(bareSpec(), mode, `bare-${mode}.bin`, srcSpec(cfg.fileBytes));
        bareRuns[mode].push(r.mbPerSecond);
      }
      await warm('source', file);
      const d = await client.download('127.0.0.1', bare.port, '/download');
      if (d.status !== 200 || d.bytes !== cfg.fileBytes) throw new Error(`bare download: ${d.status}, ${d.bytes} bytes`);
      bareRuns.download.push(d.mbPerSecond);
    }
    await bare.stop();
    log(
      `bare Node.js reference: upload with TLS only ${bareRuns.discard.map((x) => x.toFixed(0)).join('/')} MB/s; upload ${bareRuns.inline.map((x) => x.toFixed(0)).join('/')} MB/s on the event loop, ${bareRuns.hashworker.map((x) => x.toFixed(0)).join('/')} MB/s with SHA-256 on a worker, ${bareRuns.worker.map((x) => x.toFixed(0)).join('/')} MB/s with a crypto worker; download ${bareRuns.download.map((x) => x.toFixed(0)).join('/')} MB/s`,
    );

    // ---- 3. RSS with 2 GiB: a simple upload + download of the largest downloadable file ----
    await warm('zeros', zeroFile);
    const rssUp = await monitor.phase('rss.upload.multipart', () =>
      client.uploadMultipart(as(), folder.id, 'rss-multipart.bin', zerosSpec(rssDownloadBytes)),
    );
    checkSha('2 GiB multipart upload', rssUp.value.sha256!, zeroHash);
    log(
      `2 GiB multipart upload: ${rssUp.value.mbPerSecond.toFixed(0)} MB/s, peak RSS ${(rssUp.stats.peakRss / MB).toFixed(0)} MB; waiting for its scan`,
    );
    const rssScan = await monitor.phase('rss.scan', () => waitScanned(s, [rssUp.value.fileId], scanTimeout(rssDownloadBytes)));
    let rssDown: { value: DownloadResult; stats: PhaseStats } | null = null;
    if (rssScan.value.length) {
      scanProblems.push(...rssScan.value);
      log(`2 GiB file did not become available, so its download is not measured: ${rssScan.value.join('; ')}`);
    } else {
      await warmBlob('kura 2 GiB blob', rssUp.value.fileId);
      rssDown = await monitor.phase('rss.download', () =>
        client.download('127.0.0.1', kura.port, `/api/v1/files/${rssUp.value.fileId}/content`, s.headers()),
      );
      if (rssDown.value.bytes !== rssDownloadBytes || rssDown.value.headers['x-kura-sha256'] !== zeroHash)
        throw new Error(`2 GiB download: ${rssDown.value.bytes} bytes, sha ${rssDown.value.headers['x-kura-sha256']}`);
      log(`2 GiB download: ${rssDown.value.mbPerSecond.toFixed(0)} MB/s, peak RSS ${(rssDown.stats.peakRss / MB).toFixed(0)} MB`);
    }

    // ---- 4. concurrent simple uploads ----
    await warm('source', file);
    const conc = await monitor.phase('concurrent', () =>
      client.concurrent(
        as(),
        folder.id,
        Array.from({ length: cfg.concurrent }, (_, i) => ({
          name: `concurrent-${i}.bin`,
          source: srcSpec(cfg.concurrentBytes, i * cfg.concurrentBytes),
        })),
      ),
    );
    conc.value.rs.forEach((r, i) => checkSha(`concurrent upload ${i}`, r.sha256!, sliceHashes[i]!));
    const concMBps = (cfg.concurrent * cfg.concurrentBytes) / MB / conc.value.seconds;
    log(
      `${cfg.concurrent} × ${cfg.concurrentBytes / MiB} MiB concurrent: ${conc.value.seconds.toFixed(2)} s, peak RSS ${(conc.stats.peakRss / MB).toFixed(0)} MB; waiting for their scans`,
    );
    await monitor.phase('scan.wait', () =>
      drainScans(
        conc.value.rs.map((r) => r.fileId),
        cfg.concurrent * cfg.concurrentBytes,
      ),
    );

    // ---- 5. scan latency: clamd's own INSTREAM, then Kura's upload end → available, on the same file ----
    const direct: number[] = [];
    for (let i = 0; i < cfg.scanRuns; i++) {
      await warm('scan file', scanFile);
      const r = await instream(clamd, scanFile);
      if (r.reply !== 'stream: OK') throw new Error(`clamd answered ${JSON.stringify(r.reply)}`);
      direct.push(r.seconds);
    }
    const latencies: Array<{ uploadSeconds: number; toAvailableSeconds: number }> = [];
    for (let i = 0; i < cfg.scanRuns; i++) {
      const r = await monitor.phase('scan.latency', async () => {
        const up = await client.uploadMultipart(as(), folder.id, `scan-${i}.bin`, {
          file: scanFile,
          fileSize: cfg.scanBytes,
          length: cfg.scanBytes,
        });
        checkSha('scan upload', up.sha256!, scanHash);
        for (;;) {
          const f = await s.ok('GET', `/api/v1/files/${up.fileId}`);
          if (f.latest.state === 'available')
            return { uploadSeconds: up.seconds, toAvailableSeconds: (Date.now() - up.endedAtMs) / 1000 };
          if (f.latest.state !== 'held') throw new Error(`scan file became ${f.latest.state}`);
          if (Date.now() - up.endedAtMs > scanTimeout(cfg.scanBytes)) throw new Error('scan file still held');
          await sleep(25);
        }
      });
      latencies.push(r.value);
    }
    const directMedian = median(direct);
    const latencyMedian = median(latencies.map((l) => l.toAvailableSeconds));
    log(
      `scan: clamd INSTREAM ${direct.map((x) => x.toFixed(2)).join('/')} s, kura upload end → available ${latencies.map((l) => l.toAvailableSeconds.toFixed(2)).join('/')} s`,
    );

    // ---- 6. RSS with exactly 2 GiB through tus (last: clamd cannot scan it, so its scan never ends) ----
    await warm('source', file);
    const rssTus = await monitor.phase('rss.upload.tus', () =>
      client.uploadTus(as(), folder.id, 'rss-tus.bin', srcSpec(cfg.rssUploadBytes), cfg.tusChunkBytes),
    );
    const rssTusDetail = await s.ok('GET', `/api/v1/files/${rssTus.value.fileId}`);
    checkSha('2 GiB tus upload', rssTusDetail.latest.sha256, hashes.get(cfg.rssUploadBytes)!);
    log(`2 GiB tus upload: ${rssTus.value.mbPerSecond.toFixed(0)} MB/s, peak RSS ${(rssTus.stats.peakRss / MB).toFixed(0)} MB`);
    monitor.stop();
    await client.stop();
    const hwmAtEnd = statusBytes(kura.pid, 'VmHWM');

    // ---- rows ----
    const ratioRow = (bench: string, figure: string, value: number, target: number, note?: string): FilesBenchRow => {
      const ratio = value / nginxMBps;
      return {
        bench,
        figure,
        value: round(value, 1),
        unit: 'MB/s',
        ceiling: round(nginxMBps, 1),
        ceilingName: 'nginx HTTPS download MB/s (median)',
        ratio: round(ratio),
        target: `≥ ${target.toFixed(2)}`,
        result: ratio >= target ? 'PASS' : 'FAIL',
        ...(note ? { note } : {}),
      };
    };
    const rssRow = (bench: string, figure: string, stats: PhaseStats): FilesBenchRow => ({
      bench,
      figure,
      value: round(stats.peakRss / MB, 1),
      unit: 'MB',
      ceiling: cfg.rssLimitBytes / MB,
      ceilingName: 'bound',
      ratio: round(stats.peakRss / cfg.rssLimitBytes),
      target: '< 1.00',
      result: stats.peakRss < cfg.rssLimitBytes ? 'PASS' : 'FAIL',
    });
    rows.push(
      ratioRow(
        'files.download',
        `download ${cfg.fileBytes / MiB} MiB (TLS+decrypt+SHA-256), median of ${cfg.runs}`,
        kuraMBps,
        0.8,
      ),
    );
    rows.push(
      ratioRow(
        'files.upload.multipart',
        `simple upload ${cfg.fileBytes / MiB} MiB (first byte → 201)`,
        mp.value.mbPerSecond,
        0.5,
      ),
    );
    for (const tr of tusRuns)
      rows.push(
        ratioRow(
          `files.upload.tus.${tr.chunk === cfg.fileBytes ? 'single' : 'chunked'}`,
          `tus upload ${cfg.fileBytes / MiB} MiB, ${tr.label}`,
          tr.r.mbPerSecond,
          0.5,
        ),
      );
    rows.push(
      rssRow('files.rss.upload.multipart', `peak RSS, simple upload ${(rssDownloadBytes / MiB).toFixed(0)} MiB`, rssUp.stats),
    );
    rows.push(rssRow('files.rss.upload.tus', `peak RSS, tus upload ${(cfg.rssUploadBytes / MiB).toFixed(0)} MiB`, rssTus.stats));
    if (rssDown)
      rows.push(rssRow('files.rss.download', `peak RSS, download ${(rssDownloadBytes / MiB).toFixed(0)} MiB`, rssDown.stats));
    else
      rows.push({
        bench: 'files.rss.download',
        figure: `peak RSS, download ${(rssDownloadBytes / MiB).toFixed(0)} MiB`,
        value: 0,
        unit: 'MB',
        ceiling: cfg.rssLimitBytes / MB,
        ceilingName: 'bound',
        ratio: null,
        target: '< 1.00',
        result: 'FAIL',
        note: 'not measured: the file never became available (see details.scanProblems)',
      });
    rows.push(
      rssRow(
        'files.rss.concurrent',
        `peak RSS, ${cfg.concurrent} × ${cfg.concurrentBytes / MiB} MiB concurrent uploads`,
        conc.stats,
      ),
    );
    rows.push({
      bench: 'files.concurrent',
      figure: `${cfg.concurrent} × ${cfg.concurrentBytes / MiB} MiB concurrent uploads, wall time (${concMBps.toFixed(0)} MB/s total)`,
      value: round(conc.value.seconds, 2),
      unit: 's',
      ceiling: round((cfg.concurrent * cfg.concurrentBytes) / MB / nginxMBps, 2),
      ceilingName: 'same bytes at the nginx download rate',
      ratio: round(concMBps / nginxMBps),
      target: 'info',
      result: 'info',
      note: 'ratio = aggregate upload MB/s ÷ nginx download MB/s',
    });
    rows.push({
      bench: 'files.scan',
      figure: `${cfg.scanBytes / MiB} MiB: upload end → available, median of ${cfg.scanRuns} (jobs poll ${jobsPollMs} ms)`,
      value: round(latencyMedian, 2),
      unit: 's',
      ceiling: round(directMedian, 2),
      ceilingName: `clamd INSTREAM of the same file, median (cache ${clamd.cache ? 'on' : 'off'})`,
      ratio: round(latencyMedian / directMedian),
      target: 'info',
      result: 'info',
      note: `includes up to ${jobsPollMs} ms until the idle job worker polls`,
    });
    rows.push({
      bench: 'files.download.curl',
      figure: 'download with curl instead (1 run each)',
      value: round(curlKura?.mbPerSecond ?? 0, 1),
      unit: 'MB/s',
      ceiling: round(curlNginx?.mbPerSecond ?? 0, 1),
      ceilingName: 'nginx with curl',
      ratio: curlKura && curlNginx ? round(curlKura.mbPerSecond / curlNginx.mbPerSecond) : null,
      target: 'info',
      result: 'info',
    });

    for (const [mode, figure] of [
      ['discard', 'bare Node.js upload, TLS only (body counted and dropped): the client and TLS alone, best of 2'],
      ['inline', 'bare Node.js upload: TLS + SHA-256 + AES-GCM + write + fsync on the event loop, best of 2'],
      ['hashworker', 'bare Node.js upload: the same with only SHA-256 on a worker thread, best of 2'],
      ['worker', 'bare Node.js upload: the same with the crypto and writes on a worker thread, best of 2'],
      ['download', 'bare Node.js download: read + AES-GCM + SHA-256 + TLS on the event loop, best of 2'],
    ] as const) {
      const best = Math.max(...bareRuns[mode]);
      rows.push({
        bench: `files.bare.${mode === 'download' ? 'download' : `upload.${mode}`}`,
        figure,
        value: round(best, 1),
        unit: 'MB/s',
        ceiling: round(nginxMBps, 1),
        ceilingName: 'nginx HTTPS download MB/s (median)',
        ratio: round(best / nginxMBps),
        target: 'info',
        result: 'info',
        note:
          mode === 'discard'
            ? 'what the client and TLS alone allow an upload: no hashing, encryption, parsing or write'
            : 'what this machine allows any Node.js server doing only the crypto floor: no parsing, auth, database, audit',
      });
    }

    const cpuPerGB = (st: PhaseStats, bytes: number) => round(st.serverCpuSeconds / (bytes / 1e9), 2);
    /** CPU seconds in a phase: Kura, the client, nginx/clamd, and whatever else ran on the machine meanwhile. */
    const cpuOf = (st: PhaseStats) => ({
      kuraCpu: round(st.serverCpuSeconds, 2),
      clientCpu: round(st.clientCpuSeconds, 2),
      helperCpu: round(st.helperCpuSeconds, 2),
      otherCpu: round(Math.max(0, st.machineCpuSeconds - st.serverCpuSeconds - st.clientCpuSeconds - st.helperCpuSeconds), 2),
    });
    Object.assign(details, {
      nginxRuns: nginxRuns.map(({ r, stats }) => ({
        mbPerSecond: round(r.mbPerSecond, 1),
        seconds: round(r.seconds),
        cipher: r.cipher,
        ...cpuOf(stats),
      })),
      kuraRuns: kuraRuns.map(({ r, stats }) => ({
        mbPerSecond: round(r.mbPerSecond, 1),
        seconds: round(r.seconds),
        cipher: r.cipher,
        ...cpuOf(stats),
        ...(stats.gc ? { gc: stats.gc } : {}),
      })),
      serverCpuSecondsPerGB: {
        note: 'CPU seconds of the server process per GB moved; crypto floor of a Kura transfer = aesGcmStream (TLS) + aesGcmSegments (blob) + sha256; nginx pays aesGcmStream (TLS) plus the kernel',
        cryptoFloorKuraTransfer: round(primitives.aesGcmStream + primitives.aesGcmSegments + primitives.sha256, 2),
        cryptoFloorNginx: round(primitives.aesGcmStream, 2),
        download: round(median(kuraRuns.map((x) => cpuPerGB(x.stats, cfg.fileBytes))), 2),
        nginxDownload: round(median(nginxRuns.map((x) => x.stats.helperCpuSeconds / (cfg.fileBytes / 1e9))), 2),
        uploadMultipart: cpuPerGB(mp.stats, cfg.fileBytes),
        ...Object.fromEntries(
          tusRuns.map((tr) => [
            `uploadTus${tr.chunk === cfg.fileBytes ? 'Single' : 'Chunked'}`,
            cpuPerGB(tr.stats, cfg.fileBytes),
          ]),
        ),
      },
      machineBound: machineBound(
        cpus().length,
        round(primitives.aesGcmStream + primitives.aesGcmSegments + primitives.sha256, 2),
        nginxMBps,
        {
          download: median(kuraRuns.map((x) => x.stats.clientCpuSeconds / (cfg.fileBytes / 1e9))),
          uploadMultipart: mp.stats.clientCpuSeconds / (cfg.fileBytes / 1e9),
        },
      ),
      tus: tusRuns.map((tr) => ({ label: tr.label, patches: tr.r.patches, seconds: round(tr.r.seconds), cipher: tr.r.cipher })),
      multipart: { seconds: round(mp.value.seconds), cipher: mp.value.cipher },
      curl: { nginx: curlNginx, kura: curlKura },
      scan: {
        instreamSeconds: direct.map((x) => round(x)),
        kura: latencies.map((l) => ({ uploadSeconds: round(l.uploadSeconds), toAvailableSeconds: round(l.toAvailableSeconds) })),
        instreamMiBps: round(cfg.scanBytes / MiB / directMedian, 1),
      },
      rssScanPhase: {
        peakRssMB: round(rssScan.stats.peakRss / MB, 1),
        seconds: round(rssScan.stats.seconds, 1),
        problems: rssScan.value,
      },
      rss2GiBDownloadMBps: rssDown ? round(rssDown.value.mbPerSecond, 1) : null,
      scanProblems,
      warmups: {
        note: 'MB/s of reading each file once before a timed transfer (page cache warm-up); low = it had been paged out',
        coldReads: warmups.filter((w) => w.mbPerSecond < 2000),
        count: warmups.length,
      },
      scanDiagnostics: scanProblems.length ? scanDiagnostics(stack.dataDir, clamdLog) : [],
      rss2GiBMultipartMBps: round(rssUp.value.mbPerSecond, 1),
      rss2GiBTusMBps: round(rssTus.value.mbPerSecond, 1),
      serverVmHWMSinceLastResetMB: hwmAtEnd === null ? null : round(hwmAtEnd / MB, 1),
      phases: monitor.phases.map((p) => ({
        phase: p.phase,
        seconds: round(p.seconds, 2),
        peakRssMB: round(p.peakRss / MB, 1),
        sampledPeakRssMB: round(p.sampledPeakRss / MB, 1),
        vmHWMMB: p.hwm === null ? null : round(p.hwm / MB, 1),
        hwmReset: p.hwmReset,
        rssAtStartMB: round(p.rssAtStart / MB, 1),
        samples: p.samples,
        ...cpuOf(p),
        ...(p.gc ? { gc: p.gc } : {}),
      })),
    });
    const byName = new Map<string, PhaseSummary>();
    for (const p of monitor.phases) {
      const c = cpuOf(p);
      const a = byName.get(p.phase) ?? {
        phase: p.phase,
        runs: 0,
        seconds: 0,
        peakRssMB: 0,
        kuraCpu: 0,
        clientCpu: 0,
        helperCpu: 0,
        otherCpu: 0,
        markCompacts: null,
      };
      byName.set(p.phase, {
        phase: p.phase,
        runs: a.runs + 1,
        seconds: a.seconds + p.seconds,
        peakRssMB: Math.max(a.peakRssMB, p.peakRss / MB),
        kuraCpu: a.kuraCpu + c.kuraCpu,
        clientCpu: a.clientCpu + c.clientCpu,
        helperCpu: a.helperCpu + c.helperCpu,
        otherCpu: a.otherCpu + c.otherCpu,
        markCompacts: p.gc ? (a.markCompacts ?? 0) + p.gc.markCompacts : a.markCompacts,
      });
    }
    phaseSummary = [...byName.values()];
    // How much of the machine other work took while transfers were measured (this machine is shared).
    const measured = monitor.phases.filter((p) => /^(download|upload)/.test(p.phase));
    const wall = measured.reduce((a, p) => a + p.seconds, 0);
    const other = measured.reduce((a, p) => a + cpuOf(p).otherCpu, 0);
    details.otherWorkShare = round(other / (wall * cpus().length), 3);
    details.loadavgAtEnd = readFileSync('/proc/loadavg', 'utf8').trim();
    await kura.stop();
  } finally {
    await cleanupAll();
  }

  const totalSeconds = (Date.now() - started) / 1000;
  printTable(rows, totalSeconds, phaseSummary);
  const share = details.otherWorkShare as number | undefined;
  if (share !== undefined)
    console.log(
      `other work on the machine took ${(share * 100).toFixed(0)} % of its ${cpus().length} cores during the measured transfers` +
        (share > 0.15 ? ' — the machine was busy: absolute figures are low and ratios noisy; run again on a quiet machine' : ''),
    );
  console.log(
    `server: ${String(details.serverRunAs)}${(details.serverNodeArgs as string[] | undefined)?.length ? ` with ${(details.serverNodeArgs as string[]).join(' ')}` : ''}; idle RSS ${String(details.serverIdleRssMB)} MB`,
  );
  console.log(`server CPU seconds per GB: ${JSON.stringify(details.serverCpuSecondsPerGB)}`);
  console.log(`primitives in this run, CPU seconds per GB: ${JSON.stringify(details.primitiveCpuSecondsPerGB)}`);
  const bound = details.machineBound as ReturnType<typeof machineBound> | undefined;
  if (bound) for (const line of bound.lines) console.log(line);
  if ((details.scanProblems as string[] | undefined)?.length)
    console.log(
      `scan problems:\n  ${[...(details.scanProblems as string[]), ...((details.scanDiagnostics as string[]) ?? [])].join('\n  ')}`,
    );
  const report = {
    bench: 'files',
    at: new Date(started).toISOString(),
    totalSeconds: round(totalSeconds, 1),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      openssl: process.versions.openssl,
    },
    config: { ...cfg, rssDownloadBytes, output: undefined, units: 'MB = 10^6 bytes, MiB = 2^20 bytes' },
    rows,
    details,
  };
  mkdirSync(dirname(cfg.output), { recursive: true });
  writeFileSync(cfg.output, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`files benchmark report: ${cfg.output}`);
  return rows;
}

function table(header: string[], body: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const b of body) console.log(line(b));
}

interface PhaseSummary {
  phase: string;
  runs: number;
  seconds: number;
  peakRssMB: number;
  kuraCpu: number;
  clientCpu: number;
  helperCpu: number;
  otherCpu: number;
  markCompacts: number | null;
}

function printTable(rows: FilesBenchRow[], totalSeconds: number, phases: PhaseSummary[]): void {
  console.log('');
  table(
    ['figure', 'value', 'ceiling', 'ratio', 'target', 'result'],
    rows.map((r) => [
      r.figure,
      `${r.value} ${r.unit}`,
      r.ceiling === null ? '-' : `${r.ceiling} ${r.unit} (${r.ceilingName})`,
      r.ratio === null ? '-' : r.ratio.toFixed(3),
      r.target,
      r.result,
    ]),
  );
  console.log(
    '\nper phase (sums over runs): Kura server peak RSS and CPU seconds of Kura, the client, nginx+clamd, and the rest of the machine',
  );
  table(
    [
      'phase',
      'runs',
      'seconds',
      'peak RSS MB',
      'kura cpu s',
      'client cpu s',
      'nginx+clamd cpu s',
      'other cpu s',
      'kura full GCs',
    ],
    phases.map((p) => [
      p.phase,
      String(p.runs),
      p.seconds.toFixed(2),
      p.peakRssMB.toFixed(1),
      p.kuraCpu.toFixed(2),
      p.clientCpu.toFixed(2),
      p.helperCpu.toFixed(2),
      p.otherCpu.toFixed(2),
      p.markCompacts === null ? '-' : String(p.markCompacts),
    ]),
  );
  const failed = rows.filter((r) => r.result === 'FAIL').length;
  console.log(
    `\nfiles benchmark: ${rows.filter((r) => r.result === 'PASS').length} PASS, ${failed} FAIL, in ${totalSeconds.toFixed(0)} s`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!existsSync('/proc/self/status')) throw new Error('the files benchmark reads /proc (Linux only)');
  await runFilesBench();
}

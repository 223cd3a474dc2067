/**
 * Child processes of the files benchmark — nginx (the download ceiling), clamd (the scan ceiling)
 * and `kura serve` — each started with its own config in the benchmark's temp dir, never a system
 * service, and all stopped (by their own pid) and their temp dirs removed when the benchmark ends,
 * fails or is interrupted.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

// ---- cleanup ----

const cleanups: Array<() => Promise<void> | void> = [];
let cleaning: Promise<void> | null = null;

/** Registers work to undo at the end (run last-in first-out, each at most once). */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const fn = cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        console.error(`bench cleanup: ${(err as Error).message}`);
      }
    }
  })().finally(() => {
    cleaning = null;
  });
  return cleaning;
}

// A crash anywhere (a throw in a stream callback, say) still stops the children and removes the temp dirs.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (err: unknown) => {
    console.error(`bench: ${event}:`, err);
    void cleanupAll().finally(() => process.exit(1));
  });
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, stopping children and removing temp dirs`);
    void cleanupAll().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1)));
  });
}

// ---- helpers ----

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Stops one child by its pid: `signal`, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function tlsHandshakes(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' });
    s.once('secureConnect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, child: ChildProcess, log: string, timeoutMs = 30_000) {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}\n${tail(log)}`);
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`${what} did not come up in ${timeoutMs} ms\n${tail(log)}`);
}

/** A self-signed ECDSA P-256 certificate for 127.0.0.1/localhost (as Kura generates for itself). */
export function selfSignedCert(dir: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  return { certFile, keyFile };
}

// ---- nginx ----

export interface Nginx {
  port: number;
  pid: number;
  /** Worker pids (children of the master), for CPU accounting. */
  workers(): number[];
  stop(): Promise<void>;
}

export function nginxBinary(): string | null {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'])
    if (existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * nginx serving `root` over HTTPS on loopback: TLS 1.3 only, the same AES-GCM suites and groups as
 * Kura's listener (src/http/tls.ts), one worker (Kura is one Node process), no access log.
 */
export async function startNginx(dir: string, opts: { root: string; certFile: string; keyFile: string }): Promise<Nginx> {
  const bin = nginxBinary();
  if (!bin) throw new Error('nginx is missing: run bash bench/prereqs.sh as root');
  const port = await freePort();
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  const log = join(dir, 'error.log');
  const t = (name: string) => join(dir, 'tmp', name);
  writeFileSync(
    conf,
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
daemon off;
master_process on;
pid ${join(dir, 'nginx.pid')};
error_log ${log} warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${t('body')};
  proxy_temp_path ${t('proxy')};
  fastcgi_temp_path ${t('fastcgi')};
  uwsgi_temp_path ${t('uwsgi')};
  scgi_temp_path ${t('scgi')};
  default_type application/octet-stream;
  sendfile on;
  keepalive_timeout 30;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${opts.certFile};
    ssl_certificate_key ${opts.keyFile};
    ssl_protocols TLSv1.3;
    ssl_prefer_server_ciphers on;
    ssl_conf_command Ciphersuites TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    location / { root ${opts.root}; }
  }
}
`,
  );
  const out = openSync(join(dir, 'nginx.stdout'), 'w');
  const child = spawn(bin, ['-p', dir, '-e', log, '-c', conf], { stdio: ['ignore', out, out] });
  closeSync(out);
  const stop = () => stopChild(child, 'SIGTERM', 5000);
  onCleanup(stop);
  await waitFor('nginx', () => tlsHandshakes(port), child, log);
  return { port, pid: child.pid!, workers: () => childrenOf(child.pid!), stop };
}

export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

// ---- clamd ----

/** The 68-byte EICAR test string, in hex so no scanner flags this file (as test/services/clamd.sh). */
const EICAR_HEX =
  '58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a';

export interface Clamd {
  address: string;
  host: string;
  port: number;
  /** Whether this clamd caches verdicts (true = a repeat scan of the same bytes is not a real scan). */
  cache: boolean | 'unknown';
  /** Our own clamd's pid (null for an external one). */
  pid: number | null;
  stop(): Promise<void>;
}

/**
 * clamd with its own config and a one-signature database in `dir`, DisableCache yes (a benchmark
 * must not be answered from the verdict cache), limits at clamd's maximum. `external` (tcp://h:p)
 * uses a running clamd instead.
 */
export async function startClamd(dir: string, external?: string): Promise<Clamd> {
  if (external) {
    const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(external);
    if (!m) throw new Error(`BENCH_CLAMD must be tcp://host:port, got ${external}`);
    return { address: external, host: m[1]!, port: Number(m[2]), cache: 'unknown', pid: null, stop: async () => {} };
  }
  const port = await freePort();
  mkdirSync(join(dir, 'db'), { recursive: true });
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  writeFileSync(join(dir, 'db', 'bench.ndb'), `Kura.Bench.Eicar.NDB:0:*:${EICAR_HEX}\n`);
  const log = join(dir, 'clamd.log');
  writeFileSync(
    join(dir, 'clamd.conf'),
    [
      'Foreground yes',
      `TCPSocket ${port}`,
      'TCPAddr 127.0.0.1',
      `DatabaseDirectory ${join(dir, 'db')}`,
      `TemporaryDirectory ${join(dir, 'tmp')}`,
      `LogFile ${log}`,
      'LogTime yes',
      'StreamMaxLength 4000M',
      'MaxFileSize 4000M',
      'MaxScanSize 4000M',
      'MaxScanTime 600000',
      'AlertExceedsMax yes',
      'DisableCache yes',
      'MaxThreads 4',
      '',
    ].join('\n'),
  );
  const out = openSync(join(dir, 'clamd.stdout'), 'w');
  const child = spawn('clamd', ['-c', join(dir, 'clamd.conf')], { stdio: ['ignore', out, out] });
  closeSync(out);
  child.on('error', () => {});
  const stop = () => stopChild(child, 'SIGTERM', 5000);
  onCleanup(stop);
  await waitFor('clamd', () => canConnect(port), child, join(dir, 'clamd.stdout'));
  return { address: `tcp://127.0.0.1:${port}`, host: '127.0.0.1', port, cache: false, pid: child.pid!, stop };
}

// ---- kura serve ----

/**
 * Compiles the server as `npm run build:server` does (tsc, tsconfig.build.json) into `dir`, so the
 * benchmark runs what production runs (`node dist/main.js`), not the tsx loader (which alone adds
 * ~50 MB of RSS). `dir` gets a package.json (ESM) and a node_modules link to the repository's.
 * Returns the path of main.js. Type errors elsewhere in a tree being edited do not stop the emit.
 */
export function buildKura(dir: string): { main: string; diagnostics: string } {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  let diagnostics = '';
  try {
    execFileSync(
      process.execPath,
      [
        join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(REPO, 'tsconfig.build.json'),
        '--outDir',
        join(dir, 'dist'),
      ],
      {
        cwd: REPO,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  } catch (err) {
    diagnostics = String((err as { stdout?: string }).stdout ?? err).trim();
  }
  const main = join(dir, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`tsc emitted no ${main}\n${diagnostics}`);
  return { main, diagnostics };
}

export interface KuraServer {
  pid: number;
  port: number;
  logFile: string;
  stop(): Promise<void>;
}

/** The environment `npm start` and `bin/kura.js` run the server with: glibc malloc arenas capped (docs/deployment.md). */
export const SERVER_ENV: Record<string, string> = { MALLOC_ARENA_MAX: '2' };
/** The node flags `npm start` and `bin/kura.js` run the server with: a fixed old-generation growth (docs/deployment.md). */
export const SERVER_NODE_FLAGS = ['--heap-growing-percent=100'];

/**
 * `kura serve` with stdout/stderr to a file: compiled `main.js` (from buildKura) run by node as in
 * production, or, with `main` null, from source through tsx as the tests run it (test/support/cli.ts).
 */
export async function startKura(
  cwd: string,
  env: Record<string, string>,
  main: string | null,
  nodeArgs: string[] = [],
): Promise<KuraServer> {
  const args = [
    ...SERVER_NODE_FLAGS,
    ...nodeArgs,
    ...(main ? [main, 'serve'] : ['--import', import.meta.resolve('tsx'), join(REPO, 'src', 'main.ts'), 'serve']),
  ];
  const lgwanPort = await freePort();
  const internetPort = await freePort();
  const fullEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(fullEnv)) if (k.startsWith('KURA_')) delete fullEnv[k];
  Object.assign(fullEnv, {
    KURA_LGWAN_PORT: String(lgwanPort),
    KURA_INTERNET_PORT: String(internetPort),
    KURA_HOST: '127.0.0.1',
    ...SERVER_ENV,
    ...env,
  });
  const logFile = join(cwd, 'kura.log');
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, args, { cwd, env: fullEnv, stdio: ['ignore', out, out] });
  closeSync(out);
  const stop = () => stopChild(child, 'SIGTERM', 5000);
  onCleanup(stop);
  await waitFor(
    'kura serve',
    async () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('Kura (蔵) is running'),
    child,
    logFile,
    60_000,
  );
  return { pid: child.pid!, port: lgwanPort, logFile, stop };
}

// ---- page cache ----

/**
 * Reads a file through once so it is in the page cache, and returns the MB/s of that read (slow =
 * it came from the disk). This machine's memory manager pages out anything unused for about a
 * minute (DAMON), so a file written a minute ago may no longer be cached; every timed transfer
 * starts from a warm cache, for Kura's blob and nginx's file alike.
 */
export async function warmFile(path: string): Promise<number> {
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  let bytes = 0;
  const t0 = performance.now();
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      bytes += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return bytes / 1e6 / ((performance.now() - t0) / 1000);
}

// ---- /proc ----

const CLK_TCK = 100;

/** User + system CPU seconds of a process (0 when it is gone). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine (all cores: everything but idle and iowait). */
export function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - f[3]! - f[4]!) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM), or null. */
export function statusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Resets the process's peak RSS (VmHWM) to its current RSS; false where the kernel refuses. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// ---- the bare Node.js reference server (bare-server.ts) ----

export interface BareServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Starts bench/lib/bare-server.ts, serving `file` for downloads; uploads are written under `tmp` and removed. */
export async function startBareServer(opts: {
  certFile: string;
  keyFile: string;
  file: string;
  tmp: string;
}): Promise<BareServer> {
  mkdirSync(opts.tmp, { recursive: true });
  const script = fileURLToPath(new URL('./bare-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, opts.certFile, opts.keyFile, opts.file, opts.tmp], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = () => stopChild(child, 'SIGTERM', 5000);
  onCleanup(stop);
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`bare reference server exited with ${code}`)));
  });
  return { port, pid: child.pid!, stop };
}

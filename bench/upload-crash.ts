/**
 * Crash consistency of uploads (issue 4 "Reliability test", TLS-02). A real `kura serve` process
 * (SQLite and the local blob store) is killed with SIGKILL at random moments while concurrent uploads
 * are in flight: simple multipart uploads and tus uploads sent in PATCH chunks. It is restarted on
 * the same data directory and ports and the work goes on; a tus upload a kill interrupted resumes
 * from the offset HEAD reports. Each round starts with one upload that must be acknowledged, then
 * runs the concurrent uploads and kills the server 20–400 ms (bench: 20–1500 ms) in. At the end the
 * data directory is opened in-process and checked:
 *
 *   - every acknowledged upload (201, or a tus PATCH or HEAD answered with Kura-File-Id) is there
 *     once, with the SHA-256 the client computed, and its blob decrypts to exactly those bytes
 *     (`vault.verify` and an independent hash of `vault.open`);
 *   - an upload whose answer a kill swallowed (body fully sent, no answer) is there intact or not at
 *     all; an upload whose body was not fully sent is not there; nothing else is there (also checked
 *     through the folder listing after every restart);
 *   - a tus offset the server acknowledged is never lost (HEAD after a restart reports at least it);
 *   - the session cookie survives every restart (sessions live in the database);
 *   - the audit chain verifies and the SQLite file passes `pragma integrity_check`;
 *   - the cleanup job (driven with a clock) keeps fresh staging files (they may be in-progress
 *     writes), collects leftovers older than an hour that no open session owns
 *     (`staging/<tenant>/*.part`, `blobs/.staging/*`) and, once the sessions expire, the abandoned
 *     sessions and their staged bytes.
 *
 * Blob files no row refers to (`orphanBlobs`) are counted after the cleanup job ran: blob intents
 * (one-request uploads) and expired sessions (tus) let it remove them, so the count should be 0.
 *
 * Start-up (module loading) dominates a round, so the next server process is started ahead of time
 * as a "standby" that loads the modules, waits, and runs the CLI's `serve` once the previous process
 * is dead (see `Runner`). Nothing is shared between processes but the data directory.
 *
 *   node --import tsx bench/upload-crash.ts
 *
 * Environment: BENCH_KILLS (200), BENCH_CONCURRENCY (6), BENCH_MAX_FILE_MB (24: tus uploads 1 MiB up
 * to this, simple ones up to a third of it), BENCH_KILL_DELAY_MS (20-1500), BENCH_TUS_ALIGN (1; 65536
 * avoids the known unaligned-finish bug), BENCH_STANDBYS (2), BENCH_RUNNER (bundle | tsx),
 * BENCH_SEED, BENCH_KEEP_DIR=1 (keep the data directory). Prints a summary; exits 1 when a check
 * fails. test/e2e/upload-crash.e2e.test.ts runs the same harness with 32 kills and small files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import pino from 'pino';
import { createUserWithLink, openKura, writeDefaultConfig } from '../src/app/bootstrap.js';
import type { Services } from '../src/app/services.js';
import { loadConfig, type ResolvedConfig } from '../src/config/load-config.js';
import { ManualClock } from '../src/core/clock.js';
import { systemActor } from '../src/core/types.js';
import { randomBytes } from '../src/crypto/primitives.js';
import type { BlobRow } from '../src/files/file.repository.js';
import { freePort } from '../test/support/cli.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(REPO, 'src');
const TSX = import.meta.resolve('tsx');
const SEGMENT = 64 * 1024;
const PASSWORD = 'granite-violet-harbor';
const RUNNING = 'Kura (蔵) is running';

export interface UploadCrashOptions {
  /** SIGKILLs while uploads are in flight. */
  kills: number;
  /** Uploads running at the same time. */
  concurrency: number;
  /** Size range of a simple (multipart) upload, bytes. */
  simpleBytes: [number, number];
  /** Size range of a tus upload, bytes. */
  tusBytes: [number, number];
  /** Size range of one tus PATCH body (at least one 64 KiB segment, so every PATCH makes progress). */
  tusChunkBytes: [number, number];
  /** Delay from the start of a round's uploads to the kill, ms. */
  killDelayMs: [number, number];
  /** Share of new uploads that use tus (the others are simple uploads). */
  tusShare: number;
  /**
   * Round tus lengths up to a multiple of this (1 = any length). A multiple of the 64 KiB segment
   * avoids the known bug where a session whose last byte is staged but whose file did not commit can
   * never be finished when its length is not segment-aligned (see the e2e test).
   */
  tusAlign: number;
  /** Server processes loading their modules ahead of time. */
  standbys: number;
  runner: Runner;
  seed: number;
  keepDir?: boolean;
  log?: (line: string) => void;
}

export const BENCH_DEFAULTS: UploadCrashOptions = {
  kills: 200,
  concurrency: 6,
  simpleBytes: [1, 8 * 1024 * 1024],
  tusBytes: [1024 * 1024, 24 * 1024 * 1024],
  tusChunkBytes: [SEGMENT, 4 * 1024 * 1024],
  killDelayMs: [20, 1500],
  tusShare: 0.5,
  tusAlign: 1,
  standbys: 2,
  runner: 'bundle',
  seed: Date.now() % 2 ** 31,
};

type Outcome =
  /** tus: created, not finished yet. */
  | 'pending'
  /** 201, or the finishing tus PATCH / a HEAD answered with Kura-File-Id. */
  | 'acked'
  /** The whole body was sent, the answer never came: may or may not have been committed. */
  | 'unknown'
  /** The body was not fully sent when the server died: must not exist. */
  | 'unsent'
  /** tus creation without an answer: the client has no URL and gives up (the session, if any, is abandoned). */
  | 'lost_create'
  /** An error answer: must not exist. */
  | 'rejected'
  /** Deliberately left unfinished (the cleanup must collect it). */
  | 'abandoned';

interface UploadRec {
  n: number;
  kind: 'simple' | 'tus';
  name: string;
  length: number;
  sha256: string;
  /** Kept while the bytes may still be needed (a pending tus upload). */
  data: Buffer | null;
  outcome: Outcome;
  fileId: string | null;
  url: string | null;
  /** tus: the largest offset the server acknowledged. */
  offset: number;
  needsHead: boolean;
  busy: boolean;
  round: number;
}

export interface UploadCrashReport {
  seed: number;
  kills: number;
  restarts: number;
  sessionsSurvivedRestarts: number;
  /** Folder listings checked after restarts (only acknowledged or possibly committed uploads, intact). */
  listings: number;
  uploads: number;
  simple: Record<'acked' | 'unknownPresent' | 'unknownAbsent' | 'unsent' | 'rejected', number>;
  tus: {
    acked: number;
    lostCreates: number;
    abandoned: number;
    patches: number;
    /** HEADs after a kill that found bytes already stored. */
    resumedAfterKill: number;
    /** Uploads that finished in a later server process than the one they started in. */
    spanningRestarts: number;
    /** HEAD reported more than the client heard acknowledged (the answer to a PATCH was lost). */
    headAheadOfAck: number;
    /** HEAD answered Kura-File-Id: the finishing PATCH committed but its answer was lost. */
    finishedUnheard: number;
    /**
     * HEAD answered Upload-Offset == Upload-Length without Kura-File-Id: every byte staged, the file
     * not committed (killed inside finish()). A standard tus client stops here and reports success.
     */
    stagedButUncommitted: number;
  };
  bytesVerified: number;
  leftovers: {
    before: { parts: number; blobStaging: number; openSessions: number };
    keptWhileFresh: boolean;
    afterOneHour: { parts: number; blobStaging: number };
    afterExpiry: { parts: number; blobStaging: number; sessions: number; expired: number };
  };
  /** Files in the blob store that no blob row refers to (not staging, so the cleanup never sees them). */
  orphanBlobs: number;
  timings: {
    totalMs: number;
    startMs: { min: number; median: number; max: number };
    /** Waiting for a standby to finish loading its modules. */
    warmWaitMs: number;
    warmWaits: number[];
    roundMs: { median: number; max: number };
    verifyMs: number;
  };
  problems: string[];
}

// ---------------------------------------------------------------------------------------------
// Randomness: sizes, chunking, the upload mix and kill delays come from a seeded generator (the seed is
// reported); which upload draws which number still depends on timing, so runs never repeat exactly.

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const sha256Hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// ---------------------------------------------------------------------------------------------
// Server processes

/**
 * How server processes run `kura serve`: `tsx` loads src/main.ts through tsx (as test/support/cli.ts
 * does); `bundle` compiles src/main.ts once with esbuild, the transpiler tsx itself uses (packages
 * left external, as `npm run build` leaves them), and runs the result with plain node, which saves
 * the loader hooks' second of CPU at every start. Either way a standby loads the modules first,
 * prints a line, waits for "go" on stdin, then runs the CLI's `serve` in the same process. A standby
 * (or server) whose parent goes away exits (stdin closes).
 */
export type Runner = 'bundle' | 'tsx';

interface RunnerFiles {
  dir: string;
  /** node arguments that start a standby. */
  args: string[];
}

async function prepareRunner(runner: Runner): Promise<RunnerFiles> {
  // Under the repository's node_modules so that the bundle's bare imports resolve to its packages.
  const cache = join(REPO, 'node_modules', '.cache', 'kura-upload-crash');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'run-'));
  let main: string;
  let preload: string[];
  if (runner === 'bundle') {
    const { build } = await import('esbuild');
    main = join(dir, 'main.mjs');
    const result = await build({
      entryPoints: [join(SRC, 'main.ts')],
      outfile: main,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'inline',
      metafile: true,
      logLevel: 'error',
    });
    const packages = new Set<string>();
    for (const input of Object.values(result.metafile.inputs)) {
      for (const i of input.imports) if (i.external && !i.path.startsWith('node:')) packages.add(i.path);
    }
    preload = [...packages];
  } else {
    main = join(SRC, 'main.ts');
    preload = ['app/bootstrap.ts', 'app/services.ts', 'http/listen.ts', 'config/load-config.ts'].map(
      (m) => pathToFileURL(join(SRC, m)).href,
    );
  }
  const standby = join(dir, 'standby.mjs');
  writeFileSync(
    standby,
    `// Written by bench/upload-crash.ts: loads ${runner === 'bundle' ? 'the packages' : 'the modules'} of kura, waits for "go", runs \`kura serve\`.
let go;
const started = new Promise((resolve) => (go = resolve));
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { if (d.includes('go')) go(); });
process.stdin.on('end', () => process.exit(3));
await Promise.all(${JSON.stringify(preload)}.map((m) => import(m)));
process.stdout.write('kura-standby-ready\\n');
await started;
process.argv = [process.argv[0], ${JSON.stringify(main)}, 'serve'];
await import(${JSON.stringify(pathToFileURL(main).href)});
`,
  );
  return { dir, args: runner === 'tsx' ? ['--import', TSX, standby] : ['--enable-source-maps', standby] };
}

interface ServerProcess {
  child: ChildProcess;
  warm: Promise<void>;
  running: Promise<void>;
  exited: Promise<number | null>;
  output: () => string;
  expectedExit: boolean;
}

class Launcher {
  private readonly standbys: ServerProcess[] = [];
  private readonly all = new Set<ServerProcess>();
  readonly startMs: number[] = [];
  readonly warmWaits: number[] = [];
  /** Log lines at level error or fatal from the server processes. */
  readonly errors: string[] = [];

  constructor(
    private readonly runner: RunnerFiles,
    private readonly cwd: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly depth: number,
    private readonly onUnexpectedExit: (msg: string) => void,
  ) {}

  private spawn(): ServerProcess {
    const child = spawn(process.execPath, this.runner.args, {
      cwd: this.cwd,
      env: this.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.stdin!.on('error', () => {});
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const until = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (out.includes(text)) {
            child.stdout!.off('data', check);
            resolve();
          }
        };
        child.stdout!.on('data', check);
        check();
        void exited.then((code) => reject(new Error(`kura exited with ${code} before "${text}":\n${out.slice(-4000)}`)));
      });
    const p: ServerProcess = {
      child,
      warm: until('kura-standby-ready'),
      running: until(RUNNING),
      exited,
      output: () => out,
      expectedExit: false,
    };
    p.warm.catch(() => {});
    p.running.catch(() => {});
    void exited.then((code) => {
      this.all.delete(p);
      if (!p.expectedExit) this.onUnexpectedExit(`kura exited by itself with ${code}:\n${out.slice(-4000)}`);
    });
    this.all.add(p);
    return p;
  }

  /** The next server: a standby told to go; returns once it listens. */
  async start(): Promise<ServerProcess> {
    if (this.standbys.length === 0) this.standbys.push(this.spawn());
    const p = this.standbys.shift()!;
    const t0 = Date.now();
    await p.warm;
    const t1 = Date.now();
    this.warmWaits.push(t1 - t0);
    p.child.stdin!.write('go\n');
    await p.running;
    this.startMs.push(Date.now() - t1);
    while (this.standbys.length < this.depth) this.standbys.push(this.spawn());
    return p;
  }

  async kill(p: ServerProcess): Promise<void> {
    p.expectedExit = true;
    p.child.kill('SIGKILL');
    await p.exited;
    for (const line of p.output().split('\n')) if (/"level":(50|60)/.test(line)) this.errors.push(line.slice(0, 2000));
  }

  async close(): Promise<void> {
    await Promise.all([...this.all].map((p) => this.kill(p)));
    this.standbys.length = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTPS client (the server's certificate is self-signed)

interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** No (complete) answer; `sent` tells whether the whole request body had been handed to the OS. */
class NetError extends Error {
  constructor(
    message: string,
    readonly sent: boolean,
  ) {
    super(message);
    this.name = 'NetError';
  }
}

function call(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer | null,
  paced = false,
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    let sent = false;
    const req = request({
      host: '127.0.0.1',
      port,
      method,
      path,
      agent,
      headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
    });
    req.setTimeout(120_000, () => req.destroy(new Error('timeout')));
    req.on('finish', () => (sent = true));
    req.on('error', (err) => reject(new NetError(err.message, sent)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(new NetError(err.message, sent)));
      res.on('end', () => {
        if (!res.complete) return reject(new NetError('answer cut short', sent));
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) });
      });
    });
    void (async () => {
      if (!body || body.length === 0) return req.end();
      // Bodies go out in pieces with short pauses, so kills land mid-body as well as between requests.
      let off = 0;
      while (off < body.length && !req.destroyed) {
        const n = Math.min(body.length - off, paced ? 16 * 1024 + Math.floor(Math.random() * 112 * 1024) : body.length);
        const ok = req.write(body.subarray(off, off + n));
        off += n;
        if (!ok) {
          await new Promise<void>((resolve) => {
            const go = () => {
              req.off('drain', go);
              req.off('close', go);
              resolve();
            };
            req.on('drain', go);
            req.on('close', go);
          });
        }
        if (paced && Math.random() < 0.25) await sleep(1);
      }
      if (!req.destroyed) req.end();
    })();
  });
}

function json(res: Res): Record<string, unknown> {
  try {
    return JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------------------------------------
// The run

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => statSync(join(dir, n)).isFile());
  } catch {
    return [];
  }
}

function listStaging(config: ResolvedConfig): { parts: string[]; blobStaging: string[] } {
  const parts: string[] = [];
  if (existsSync(config.paths.staging)) {
    for (const t of readdirSync(config.paths.staging)) parts.push(...listFiles(join(config.paths.staging, t)));
  }
  return { parts, blobStaging: listFiles(join(config.paths.blobs, '.staging')) };
}

export async function runUploadCrash(options: Partial<UploadCrashOptions> = {}): Promise<UploadCrashReport> {
  const o: UploadCrashOptions = { ...BENCH_DEFAULTS, ...options };
  const log = o.log ?? (() => {});
  const rng = mulberry32(o.seed);
  const between = ([a, b]: [number, number]) => a + Math.floor(rng() * (b - a + 1));
  const t0 = Date.now();
  const problems: string[] = [];
  const problem = (msg: string) => {
    if (problems.length < 200) problems.push(msg);
    log(`PROBLEM: ${msg}`);
  };

  const dir = mkdtempSync(join(tmpdir(), 'kura-upload-crash-'));
  const [lgwanPort, internetPort] = [await freePort(), await freePort()];
  const env: Record<string, string> = {
    KURA_CONFIG: join(dir, 'kura.yaml'),
    KURA_DATA_DIR: join(dir, 'data'),
    KURA_HOST: '127.0.0.1',
    KURA_LGWAN_PORT: String(lgwanPort),
    KURA_INTERNET_PORT: String(internetPort),
    KURA_LOG_LEVEL: 'warn',
    KURA_JOBS: 'off', // no scans, no scheduled cleanup: the checks below drive the cleanup themselves
  };
  writeDefaultConfig(env, dir, { region: '東京都', facility: 'upload-crash' });
  const config = loadConfig(env, dir);
  const serverEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(serverEnv)) if (k.startsWith('KURA_')) delete serverEnv[k];
  Object.assign(serverEnv, env);

  // A tenant without mandatory MFA and a staff user with a setup link, in-process before the first start.
  let tenantId: string;
  let setupToken: string;
  {
    const { services } = await openKura(config, { create: true, logger: pino({ level: 'silent' }) });
    try {
      const t = await services.tenants.create(systemActor(), { slug: 'crash-city', displayName: 'クラッシュ市' });
      tenantId = t.id;
      const policy = await services.tenantPolicy.get(t.id);
      await services.tenantPolicy.update(systemActor(t.id), { ...policy, mfa: { ...policy.mfa, requiredForAll: false } });
      const link = await createUserWithLink(
        services,
        t.id,
        { loginId: 'uploader', displayName: '職員 蔵', role: 'staff' },
        'bench',
      );
      setupToken = new URL(link).hash.replace('#token=', '');
    } finally {
      await services.database.close();
    }
  }

  const runner = await prepareRunner(o.runner);
  const launcher = new Launcher(runner, dir, serverEnv, o.standbys, problem);
  const agent = new Agent({ rejectUnauthorized: false, keepAlive: true });
  const recs: UploadRec[] = [];
  let restarts = 0;
  let listings = 0;
  let sessionsSurvived = 0;
  let kills = 0;
  const roundMs: number[] = [];
  const tusStats = {
    patches: 0,
    resumedAfterKill: 0,
    spanningRestarts: 0,
    headAheadOfAck: 0,
    finishedUnheard: 0,
    stagedButUncommitted: 0,
  };
  let server = await launcher.start();
  let cookie = '';
  let csrf = '';
  let folderId = '';
  const auth = () => ({ cookie, 'x-csrf-token': csrf });
  const tusHeaders = () => ({ ...auth(), 'tus-resumable': '1.0.0' });

  try {
    const done = await call(
      agent,
      lgwanPort,
      'POST',
      '/api/v1/auth/setup/complete',
      { 'content-type': 'application/json' },
      Buffer.from(JSON.stringify({ token: setupToken, password: PASSWORD, confirmPassword: PASSWORD })),
    );
    const setCookie = ([] as string[]).concat(done.headers['set-cookie'] ?? []);
    cookie = setCookie.map((c) => c.split(';')[0]!).find((c) => c.startsWith('__Host-kura=')) ?? '';
    csrf = String(json(done).csrfToken ?? '');
    if (done.status !== 200 || !cookie || json(done).next !== 'done') {
      throw new Error(`setup failed: ${done.status} ${done.body.toString()}`);
    }
    const folder = await call(
      agent,
      lgwanPort,
      'POST',
      '/api/v1/folders',
      { ...auth(), 'content-type': 'application/json' },
      Buffer.from(JSON.stringify({ parentId: null, name: 'クラッシュ試験' })),
    );
    if (folder.status !== 201) throw new Error(`folder: ${folder.status} ${folder.body.toString()}`);
    folderId = String(json(folder).id);

    let round = 0;
    let dead = false;

    const makeRec = (kind: UploadRec['kind'], length: number): UploadRec => {
      const data = randomBytes(length);
      const n = recs.length + 1;
      const rec: UploadRec = {
        n,
        kind,
        name: `${kind}-${String(n).padStart(5, '0')}.bin`,
        length,
        sha256: sha256Hex(data),
        data,
        outcome: 'pending',
        fileId: null,
        url: null,
        offset: 0,
        needsHead: false,
        busy: false,
        round,
      };
      recs.push(rec);
      return rec;
    };
    const newUpload = (): UploadRec => {
      const pendingTus = recs.filter((r) => r.kind === 'tus' && r.outcome === 'pending').length;
      const kind = pendingTus < o.concurrency && rng() < o.tusShare ? 'tus' : 'simple';
      if (kind === 'simple') return makeRec(kind, between(o.simpleBytes));
      return makeRec(kind, Math.ceil(between(o.tusBytes) / o.tusAlign) * o.tusAlign);
    };

    const settle = (rec: UploadRec, outcome: Outcome) => {
      rec.outcome = outcome;
      rec.data = null;
    };

    /** One simple upload; false when the server went away. */
    const simple = async (rec: UploadRec): Promise<boolean> => {
      const boundary = `----kura${rng().toString(16).slice(2)}`;
      const payload = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${rec.name}"\r\n` +
            `Content-Type: application/octet-stream\r\n\r\n`,
        ),
        rec.data!,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      try {
        const res = await call(
          agent,
          lgwanPort,
          'POST',
          `/api/v1/folders/${folderId}/files`,
          { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}` },
          payload,
          true,
        );
        if (res.status !== 201) {
          problem(`${rec.name}: simple upload answered ${res.status} ${res.body.toString().slice(0, 200)}`);
          settle(rec, 'rejected');
          return true;
        }
        const dto = json(res) as { id?: string; latest?: { size?: number; sha256?: string } };
        if (dto.latest?.sha256 !== rec.sha256 || dto.latest?.size !== rec.length) {
          problem(`${rec.name}: 201 with ${JSON.stringify(dto.latest)} for ${rec.length} bytes ${rec.sha256}`);
        }
        rec.fileId = String(dto.id);
        settle(rec, 'acked');
        return true;
      } catch (err) {
        if (!(err instanceof NetError)) throw err;
        settle(rec, err.sent ? 'unknown' : 'unsent');
        return false;
      }
    };

    const acceptOffset = (rec: UploadRec, res: Res, what: string): number | null => {
      const off = Number(res.headers['upload-offset']);
      if (!Number.isInteger(off) || off < 0 || off > rec.length || (off !== rec.length && off % SEGMENT !== 0)) {
        problem(`${rec.name}: ${what} answered Upload-Offset ${res.headers['upload-offset']} (length ${rec.length})`);
        return null;
      }
      return off;
    };

    /** Drives a tus upload until it finishes; false when the server went away. */
    const tus = async (rec: UploadRec): Promise<boolean> => {
      try {
        if (!rec.url) {
          const meta = Object.entries({ filename: rec.name, folderId, filetype: 'application/octet-stream' })
            .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
            .join(',');
          const res = await call(
            agent,
            lgwanPort,
            'POST',
            '/api/v1/uploads',
            { ...tusHeaders(), 'upload-length': String(rec.length), 'upload-metadata': meta },
            null,
          );
          if (res.status !== 201 || typeof res.headers.location !== 'string') {
            problem(`${rec.name}: tus creation answered ${res.status} ${res.body.toString().slice(0, 200)}`);
            settle(rec, 'rejected');
            return true;
          }
          rec.url = res.headers.location;
        }
        if (rec.needsHead) {
          const res = await call(agent, lgwanPort, 'HEAD', rec.url, tusHeaders(), null);
          if (res.status !== 200) {
            problem(`${rec.name}: HEAD after a restart answered ${res.status} (session lost)`);
            settle(rec, 'rejected');
            return true;
          }
          const off = acceptOffset(rec, res, 'HEAD');
          if (off === null) {
            settle(rec, 'rejected');
            return true;
          }
          if (off < rec.offset) problem(`${rec.name}: acknowledged offset ${rec.offset} lost, HEAD says ${off}`);
          if (off > rec.offset) tusStats.headAheadOfAck++;
          if (off > 0) tusStats.resumedAfterKill++;
          rec.offset = off;
          rec.needsHead = false;
          const fileId = res.headers['kura-file-id'];
          if (typeof fileId === 'string') {
            if (off !== rec.length) problem(`${rec.name}: HEAD with Kura-File-Id at offset ${off} of ${rec.length}`);
            tusStats.finishedUnheard++;
            rec.fileId = fileId;
            if (rec.round !== round) tusStats.spanningRestarts++;
            settle(rec, 'acked');
            return true;
          }
          if (off === rec.length) tusStats.stagedButUncommitted++;
        }
        for (;;) {
          const rest = rec.length - rec.offset;
          const n = Math.min(rest, between(o.tusChunkBytes));
          const body = rec.data!.subarray(rec.offset, rec.offset + n);
          const headers: Record<string, string> = {
            ...tusHeaders(),
            'content-type': 'application/offset+octet-stream',
            'upload-offset': String(rec.offset),
          };
          if (rng() < 0.5) headers['upload-checksum'] = `sha256 ${createHash('sha256').update(body).digest('base64')}`;
          tusStats.patches++;
          rec.needsHead = true; // until the answer arrives
          const res = await call(agent, lgwanPort, 'PATCH', rec.url, headers, body, true);
          rec.needsHead = false;
          if (res.status !== 204) {
            problem(`${rec.name}: PATCH at ${rec.offset} (+${n}) answered ${res.status} ${res.body.toString().slice(0, 200)}`);
            settle(rec, 'rejected');
            return true;
          }
          const off = acceptOffset(rec, res, 'PATCH');
          if (off === null) {
            settle(rec, 'rejected');
            return true;
          }
          if (off < rec.offset || off > rec.offset + n) problem(`${rec.name}: PATCH ${rec.offset}+${n} answered offset ${off}`);
          rec.offset = off;
          const fileId = res.headers['kura-file-id'];
          if (typeof fileId === 'string') {
            if (off !== rec.length) problem(`${rec.name}: Kura-File-Id at offset ${off} of ${rec.length}`);
            rec.fileId = fileId;
            if (rec.round !== round) tusStats.spanningRestarts++;
            settle(rec, 'acked');
            return true;
          }
          if (off === rec.length) problem(`${rec.name}: final PATCH answered 204 without Kura-File-Id`);
        }
      } catch (err) {
        if (!(err instanceof NetError)) throw err;
        if (!rec.url) settle(rec, 'lost_create');
        else rec.needsHead = true;
        return false;
      }
    };

    const worker = async (mayStartNew: boolean) => {
      while (!dead) {
        let rec = recs.find((r) => r.kind === 'tus' && r.outcome === 'pending' && r.url && !r.busy);
        if (!rec) {
          if (!mayStartNew) return;
          rec = newUpload();
        }
        rec.busy = true;
        try {
          if (!(await (rec.kind === 'tus' ? tus(rec) : simple(rec)))) return;
        } finally {
          rec.busy = false;
        }
      }
    };

    /** After a restart: the old cookie still works, and the folder shows only what may be there, intact. */
    const afterRestart = async () => {
      restarts++;
      const me = await call(agent, lgwanPort, 'GET', '/api/v1/me', { cookie }, null);
      if (me.status === 200) sessionsSurvived++;
      else problem(`the session cookie did not survive restart ${restarts}: GET /api/v1/me answered ${me.status}`);
      const listing = await call(agent, lgwanPort, 'GET', `/api/v1/folders/${folderId}`, { cookie }, null);
      if (listing.status !== 200) return problem(`folder listing answered ${listing.status}`);
      listings++;
      const byName = new Map(recs.map((r) => [r.name, r]));
      const files = (json(listing).files ?? []) as Array<{ id: string; name: string; latest: { size: number; sha256: string } }>;
      for (const f of files) {
        const rec = byName.get(f.name);
        // Visible may be: acknowledged uploads, and those whose answer was lost (a simple upload with its
        // whole body sent, a tus upload whose last PATCH went unanswered).
        const mayShow =
          rec &&
          (rec.outcome === 'acked' ||
            (rec.kind === 'simple' && rec.outcome === 'unknown') ||
            (rec.kind === 'tus' && rec.outcome === 'pending' && rec.needsHead));
        if (!rec || !mayShow)
          problem(`after restart ${restarts}: ${f.name} is listed although ${rec?.outcome ?? 'unknown to the client'}`);
        else if (rec.fileId !== null && rec.fileId !== f.id)
          problem(`${f.name}: listed as ${f.id}, acknowledged as ${rec.fileId}`);
        else if (f.latest.size !== rec.length || f.latest.sha256 !== rec.sha256) {
          problem(`after restart ${restarts}: ${f.name} is listed with ${f.latest.size} bytes ${f.latest.sha256}`);
        }
      }
      for (const rec of recs) {
        if (rec.outcome === 'acked' && !files.some((f) => f.id === rec.fileId)) {
          problem(`after restart ${restarts}: acknowledged ${rec.name} (${rec.kind}) is not listed`);
        }
      }
    };

    /** The first upload of a round runs alone and must succeed: every server serves acknowledged work before it dies. */
    const lead = async () => {
      const rec = makeRec('simple', between([1, Math.min(o.simpleBytes[1], 64 * 1024)]));
      rec.busy = true;
      await simple(rec);
      rec.busy = false;
      if (rec.outcome !== 'acked') problem(`${rec.name}: the round's first upload was not acknowledged (${rec.outcome})`);
    };

    for (round = 1; round <= o.kills; round++) {
      if (round > 1) {
        server = await launcher.start();
        await afterRestart();
      }
      dead = false;
      await lead();
      const r0 = Date.now();
      const workers = Array.from({ length: o.concurrency }, () => worker(true));
      await sleep(between(o.killDelayMs));
      dead = true;
      await launcher.kill(server);
      kills++;
      await Promise.all(workers);
      roundMs.push(Date.now() - r0);
      if (round % 10 === 0 || round === o.kills) {
        const c = (oc: Outcome) => recs.filter((r) => r.outcome === oc).length;
        log(
          `kill ${round}/${o.kills}: ${recs.length} uploads, ${c('acked')} acknowledged, ${c('pending')} tus pending, ` +
            `${c('unknown')} unanswered, ${c('unsent')} cut off (${Math.round((Date.now() - t0) / 1000)} s)`,
        );
      }
    }

    // The last server: every interrupted tus upload resumes and finishes; one session is left behind on purpose.
    server = await launcher.start();
    await afterRestart();
    dead = false;
    await Promise.all(Array.from({ length: o.concurrency }, () => worker(false)));
    for (const rec of recs.filter((r) => r.outcome === 'pending')) {
      problem(`${rec.name}: tus upload still pending after the final round (offset ${rec.offset} of ${rec.length})`);
    }
    const abandoned = makeRec('tus', 3 * SEGMENT + 1000);
    const meta = `filename ${Buffer.from(abandoned.name).toString('base64')},folderId ${Buffer.from(folderId).toString('base64')}`;
    const created = await call(
      agent,
      lgwanPort,
      'POST',
      '/api/v1/uploads',
      { ...tusHeaders(), 'upload-length': String(abandoned.length), 'upload-metadata': meta },
      null,
    );
    abandoned.url = String(created.headers.location);
    const first = await call(
      agent,
      lgwanPort,
      'PATCH',
      abandoned.url,
      { ...tusHeaders(), 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' },
      abandoned.data!.subarray(0, 2 * SEGMENT),
    );
    if (created.status !== 201 || first.status !== 204 || first.headers['upload-offset'] !== String(2 * SEGMENT)) {
      problem(`the abandoned session could not be set up: ${created.status} ${first.status}`);
    }
    settle(abandoned, 'abandoned');
    await launcher.kill(server);
  } finally {
    await launcher.close();
    agent.destroy();
    rmSync(runner.dir, { recursive: true, force: true });
    try {
      rmdirSync(dirname(runner.dir)); // only when no other run is using it
    } catch {
      // not empty
    }
  }
  for (const line of launcher.errors.slice(0, 20)) problem(`server logged: ${line}`);

  // ---- verification, in-process on the data directory ----
  const v0 = Date.now();
  const now = Date.now();
  const clock = new ManualClock(now);
  const { services } = await openKura(config, { create: false, clock, logger: pino({ level: 'silent' }) });
  let report: UploadCrashReport;
  try {
    const verified = await verifyFiles(services, tenantId, recs, problem);
    const audit = await services.auditVerify.verifyTenant(tenantId);
    if (!audit.ok) problem(`audit chain: ${audit.problems.join('; ')}`);
    const integrity = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(services.database.db);
    if (integrity.rows[0]?.integrity_check !== 'ok') problem(`sqlite integrity_check: ${JSON.stringify(integrity.rows)}`);
    const leftovers = await checkCleanup(services, config, clock, now, recs, problem);
    const orphanBlobs = await countOrphanBlobs(services, config, tenantId);
    const count = (kind: UploadRec['kind'], oc: Outcome) => recs.filter((r) => r.kind === kind && r.outcome === oc).length;
    const unknown = recs.filter((r) => r.kind === 'simple' && r.outcome === 'unknown');
    const unknownPresent = unknown.filter((r) => verified.present.has(r.name)).length;
    report = {
      seed: o.seed,
      kills,
      restarts,
      sessionsSurvivedRestarts: sessionsSurvived,
      listings,
      uploads: recs.length,
      simple: {
        acked: count('simple', 'acked'),
        unknownPresent,
        unknownAbsent: unknown.length - unknownPresent,
        unsent: count('simple', 'unsent'),
        rejected: count('simple', 'rejected'),
      },
      tus: {
        acked: count('tus', 'acked'),
        lostCreates: count('tus', 'lost_create'),
        abandoned: count('tus', 'abandoned'),
        ...tusStats,
      },
      bytesVerified: verified.bytes,
      leftovers,
      orphanBlobs,
      timings: {
        totalMs: 0,
        startMs: { min: Math.min(...launcher.startMs), median: median(launcher.startMs), max: Math.max(...launcher.startMs) },
        warmWaitMs: launcher.warmWaits.reduce((a, b) => a + b, 0),
        warmWaits: launcher.warmWaits,
        roundMs: { median: median(roundMs), max: Math.max(0, ...roundMs) },
        verifyMs: 0,
      },
      problems,
    };
  } finally {
    await services.database.close();
    if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
    else log(`data directory kept: ${dir}`);
  }
  report.timings.verifyMs = Date.now() - v0;
  report.timings.totalMs = Date.now() - t0;
  return report;
}

/** Every file in the tenant against what the client knows; every blob decrypted and hashed. */
async function verifyFiles(
  services: Services,
  tenantId: string,
  recs: UploadRec[],
  problem: (msg: string) => void,
): Promise<{ present: Set<string>; bytes: number }> {
  const db = services.database.db;
  const files = await db.selectFrom('files').selectAll().where('tenant_id', '=', tenantId).execute();
  const versions = await db.selectFrom('file_versions').selectAll().where('tenant_id', '=', tenantId).execute();
  const blobs = await db.selectFrom('blobs').selectAll().where('tenant_id', '=', tenantId).execute();
  const sessions = await db.selectFrom('upload_sessions').selectAll().where('tenant_id', '=', tenantId).execute();
  const byName = new Map(recs.map((r) => [r.name, r]));
  const blobById = new Map(blobs.map((b) => [b.id, b]));
  const present = new Set<string>();
  let bytes = 0;

  const names = new Map<string, number>();
  for (const f of files) names.set(f.name, (names.get(f.name) ?? 0) + 1);
  for (const [name, n] of names) if (n > 1) problem(`${name}: recorded ${n} times`);

  for (const f of files) {
    const rec = byName.get(f.name);
    if (!rec) {
      problem(`file ${f.name} (${f.id}) matches no upload`);
      continue;
    }
    present.add(f.name);
    if (rec.outcome === 'acked') {
      if (rec.fileId !== f.id) problem(`${rec.name}: acknowledged as ${rec.fileId}, recorded as ${f.id}`);
    } else if (!(rec.kind === 'simple' && rec.outcome === 'unknown')) {
      problem(`${rec.name}: visible although ${rec.outcome} (${rec.kind})`);
    }
    if (f.deleted_at !== null) problem(`${rec.name}: deleted`);
    const vs = versions.filter((v) => v.file_id === f.id);
    if (vs.length !== 1) {
      problem(`${rec.name}: ${vs.length} versions`);
      continue;
    }
    const v = vs[0]!;
    if (v.sha256 !== rec.sha256 || Number(v.size) !== rec.length) {
      problem(`${rec.name}: recorded ${v.size} bytes ${v.sha256}, sent ${rec.length} bytes ${rec.sha256}`);
    }
    const b = blobById.get(v.blob_id);
    if (!b) {
      problem(`${rec.name}: blob row ${v.blob_id} missing`);
      continue;
    }
    const blob: BlobRow = {
      ...b,
      kek_version: Number(b.kek_version),
      plain_size: Number(b.plain_size),
      cipher_size: Number(b.cipher_size),
      wrapped_dek: Buffer.from(b.wrapped_dek),
    };
    const check = await services.vault.verify(blob);
    if (!check.ok) problem(`${rec.name}: vault.verify: ${check.reason}`);
    // And independently: the plaintext the vault returns hashes to what the client sent.
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of await services.vault.open(blob)) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      if (size !== rec.length || hash.digest('hex') !== rec.sha256) problem(`${rec.name}: decrypts to ${size} other bytes`);
    } catch (err) {
      problem(`${rec.name}: decrypting failed: ${(err as Error).message}`);
    }
    bytes += size;
  }
  for (const rec of recs) {
    if (rec.outcome === 'acked' && !present.has(rec.name)) problem(`${rec.name}: acknowledged (${rec.kind}) but missing`);
  }
  const referenced = new Set(versions.map((v) => v.blob_id));
  for (const b of blobs) if (!referenced.has(b.id)) problem(`blob row ${b.id} without a version`);
  for (const s of sessions) {
    const rec = byName.get(s.name);
    if (s.state === 'completed' && !files.some((f) => f.id === s.result_file_id)) {
      problem(`session ${s.id} completed with a missing file ${s.result_file_id}`);
    }
    if (s.state === 'open' && rec && rec.outcome !== 'abandoned' && rec.outcome !== 'lost_create') {
      problem(`${rec.name}: session still open although ${rec.outcome}`);
    }
  }
  return { present, bytes };
}

/**
 * The cleanup job against its promise: staged bytes younger than an hour stay (they may be a write in
 * progress); older ones go unless an open session owns them; expired sessions go with their bytes.
 */
async function checkCleanup(
  services: Services,
  config: ResolvedConfig,
  clock: ManualClock,
  now: number,
  recs: UploadRec[],
  problem: (msg: string) => void,
): Promise<UploadCrashReport['leftovers']> {
  const db = services.database.db;
  const openIds = new Set(
    (await db.selectFrom('upload_sessions').select('id').where('state', '=', 'open').execute()).map((r) => r.id),
  );
  const abandoned = recs.find((r) => r.outcome === 'abandoned');
  const abandonedId = abandoned?.url?.split('/').pop();
  if (!abandonedId || !openIds.has(abandonedId)) problem('the abandoned session is not open');
  const before = listStaging(config);
  if (abandonedId && !before.parts.includes(`${abandonedId}.part`)) problem('the abandoned session has no staged bytes');

  // Right away: nothing is old enough to be collected.
  clock.set(new Date(now));
  const expiredNow = await services.uploads.cleanup();
  const fresh = listStaging(config);
  const keptWhileFresh =
    expiredNow === 0 && fresh.parts.length === before.parts.length && fresh.blobStaging.length === before.blobStaging.length;
  if (!keptWhileFresh) problem(`cleanup removed fresh staging files: ${JSON.stringify({ before, fresh, expiredNow })}`);

  // Two hours on: leftovers no open session owns are collected, open sessions keep their bytes.
  clock.set(new Date(now + 2 * 3_600_000));
  const expiredHour = await services.uploads.cleanup();
  const hour = listStaging(config);
  if (expiredHour !== 0) problem(`${expiredHour} sessions expired after two hours`);
  const unowned = hour.parts.filter((p) => !openIds.has(p.replace(/\.part$/, '')));
  if (unowned.length) problem(`staging files without an open session survived the cleanup: ${unowned.join(', ')}`);
  if (abandonedId && !hour.parts.includes(`${abandonedId}.part`))
    problem('the cleanup removed the staged bytes of an open session');
  if (hour.blobStaging.length) problem(`blob store staging leftovers survived the cleanup: ${hour.blobStaging.join(', ')}`);

  // Past the session lifetime: abandoned sessions expire with their bytes; finished ones older than a day go too.
  clock.set(new Date(now + config.uploads.sessionTtlHours * 3_600_000 + 2 * 3_600_000));
  const expired = await services.uploads.cleanup();
  const after = listStaging(config);
  const sessions = Number(
    (
      await db
        .selectFrom('upload_sessions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst()
    )?.n ?? 0,
  );
  if (expired !== openIds.size) problem(`${expired} sessions expired, ${openIds.size} were open`);
  if (after.parts.length || after.blobStaging.length) problem(`staging leftovers after expiry: ${JSON.stringify(after)}`);
  if (sessions !== 0) problem(`${sessions} upload sessions left after expiry`);

  return {
    before: { parts: before.parts.length, blobStaging: before.blobStaging.length, openSessions: openIds.size },
    keptWhileFresh,
    afterOneHour: { parts: hour.parts.length, blobStaging: hour.blobStaging.length },
    afterExpiry: { parts: after.parts.length, blobStaging: after.blobStaging.length, sessions, expired },
  };
}

/** Blob files under `blobs/<tenant>/<xx>/` that no blob row names. */
async function countOrphanBlobs(services: Services, config: ResolvedConfig, tenantId: string): Promise<number> {
  const rows = await services.database.db.selectFrom('blobs').select('id').where('tenant_id', '=', tenantId).execute();
  const known = new Set(rows.map((r) => r.id));
  const root = join(config.paths.blobs, tenantId);
  let n = 0;
  for (const sub of existsSync(root) ? readdirSync(root) : []) for (const f of listFiles(join(root, sub))) if (!known.has(f)) n++;
  return n;
}

export function formatReport(r: UploadCrashReport): string {
  const t = r.timings;
  return [
    `upload crash test (seed ${r.seed}): ${r.kills} SIGKILLs, ${r.restarts} restarts, ${r.uploads} uploads`,
    `  simple uploads: ${r.simple.acked} acknowledged, ${r.simple.unknownPresent} unanswered but committed, ` +
      `${r.simple.unknownAbsent} unanswered and absent, ${r.simple.unsent} cut off mid-body, ${r.simple.rejected} refused`,
    `  tus uploads:    ${r.tus.acked} acknowledged (${r.tus.spanningRestarts} across restarts), ${r.tus.patches} PATCHes, ` +
      `${r.tus.resumedAfterKill} resumed from HEAD, ${r.tus.headAheadOfAck} HEAD ahead of the last answer, ` +
      `${r.tus.finishedUnheard} finished unheard, ${r.tus.stagedButUncommitted} fully staged but uncommitted, ` +
      `${r.tus.lostCreates} creations unanswered, ${r.tus.abandoned} abandoned`,
    `  verified:       ${(r.bytesVerified / 1024 / 1024).toFixed(1)} MiB decrypted and hashed; session cookie valid after ` +
      `${r.sessionsSurvivedRestarts}/${r.restarts} restarts; ${r.listings} folder listings checked after restarts`,
    `  leftovers:      before cleanup ${r.leftovers.before.parts} staged .part, ${r.leftovers.before.blobStaging} blob .staging, ` +
      `${r.leftovers.before.openSessions} open sessions; after 2 h ${r.leftovers.afterOneHour.parts}/${r.leftovers.afterOneHour.blobStaging}; ` +
      `after expiry ${r.leftovers.afterExpiry.parts}/${r.leftovers.afterExpiry.blobStaging}, ${r.leftovers.afterExpiry.sessions} sessions ` +
      `(${r.leftovers.afterExpiry.expired} expired)`,
    `  orphan blobs:   ${r.orphanBlobs} blob files without a row after the cleanup (expected 0)`,
    `  timings:        total ${(t.totalMs / 1000).toFixed(1)} s; start ${t.startMs.min}/${t.startMs.median}/${t.startMs.max} ms ` +
      `(min/median/max) after ${(t.warmWaitMs / 1000).toFixed(1)} s waiting for standbys; round median ${t.roundMs.median} ms, ` +
      `max ${t.roundMs.max} ms; verification ${t.verifyMs} ms`,
    r.problems.length ? `  PROBLEMS (${r.problems.length}):\n    ${r.problems.join('\n    ')}` : '  no problems',
  ].join('\n');
}

async function main(): Promise<void> {
  const env = process.env;
  const mib = Number(env.BENCH_MAX_FILE_MB ?? 24) * 1024 * 1024;
  const report = await runUploadCrash({
    kills: Number(env.BENCH_KILLS ?? BENCH_DEFAULTS.kills),
    concurrency: Number(env.BENCH_CONCURRENCY ?? BENCH_DEFAULTS.concurrency),
    simpleBytes: [1, Math.max(1, Math.floor(mib / 3))],
    tusBytes: [Math.min(1024 * 1024, mib), mib],
    tusAlign: Number(env.BENCH_TUS_ALIGN ?? 1),
    standbys: Number(env.BENCH_STANDBYS ?? BENCH_DEFAULTS.standbys),
    runner: env.BENCH_RUNNER === 'tsx' ? 'tsx' : 'bundle',
    ...(env.BENCH_KILL_DELAY_MS ? { killDelayMs: env.BENCH_KILL_DELAY_MS.split('-').map(Number) as [number, number] } : {}),
    seed: Number(env.BENCH_SEED ?? BENCH_DEFAULTS.seed),
    keepDir: env.BENCH_KEEP_DIR === '1',
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  if (report.problems.length) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}

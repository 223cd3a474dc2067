/**
 * The benchmark's HTTP client in a process of its own: a lean Node process (node:https and the file
 * reader only), so the client's own garbage collector and CPU are not those of the orchestrating
 * process, which holds Kura's modules and whatever the other benchmarks left behind. The parent
 * sends one operation at a time over IPC and gets the result back; `ClientProcess` is its handle.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { download, FileSource, KuraSession, type DownloadResult } from './client.js';
import { onCleanup, stopChild } from './processes.js';

export interface SourceSpec {
  file: string;
  fileSize: number;
  length: number;
  offset?: number;
}

export interface SessionSpec {
  host: string;
  port: number;
  cookie: string;
  csrf: string;
}

export interface UploadResult {
  seconds: number;
  mbPerSecond: number;
  fileId: string;
  sha256?: string;
  patches?: number;
  cipher: string;
  /** Date.now() when the answer arrived (for the time to `available`). */
  endedAtMs: number;
}

type Op =
  | { op: 'download'; host: string; port: number; path: string; headers: Record<string, string> }
  | { op: 'multipart'; session: SessionSpec; folderId: string; name: string; source: SourceSpec }
  | { op: 'tus'; session: SessionSpec; folderId: string; name: string; source: SourceSpec; chunkBytes: number }
  | { op: 'concurrent'; session: SessionSpec; folderId: string; uploads: Array<{ name: string; source: SourceSpec }> };

const src = (s: SourceSpec) => new FileSource(s.file, s.fileSize, s.length, s.offset ?? 0);

function sessionOf(s: SessionSpec): KuraSession {
  const k = new KuraSession(s.host, s.port);
  k.cookie = s.cookie;
  k.csrf = s.csrf;
  return k;
}

async function run(m: Op): Promise<unknown> {
  switch (m.op) {
    case 'download': {
      const r = await download(m.host, m.port, m.path, m.headers);
      const sha = r.headers['x-kura-sha256'];
      return { ...r, headers: sha ? { 'x-kura-sha256': String(sha) } : {} };
    }
    case 'multipart': {
      const k = sessionOf(m.session);
      try {
        const r = await k.uploadMultipart(m.folderId, m.name, src(m.source));
        return { ...r, endedAtMs: Date.now() };
      } finally {
        k.close();
      }
    }
    case 'tus': {
      const k = sessionOf(m.session);
      try {
        const r = await k.uploadTus(m.folderId, m.name, src(m.source), m.chunkBytes);
        return { ...r, endedAtMs: Date.now() };
      } finally {
        k.close();
      }
    }
    case 'concurrent': {
      const k = sessionOf(m.session);
      try {
        const t0 = performance.now();
        const rs = await Promise.all(m.uploads.map((u) => k.uploadMultipart(m.folderId, u.name, src(u.source))));
        return { seconds: (performance.now() - t0) / 1000, rs: rs.map((r) => ({ ...r, endedAtMs: Date.now() })) };
      } finally {
        k.close();
      }
    }
  }
}

// ---- child side ----
if (process.send && process.argv.includes('--kura-bench-client')) {
  process.on('message', (msg: { id: number; op: Op }) => {
    run(msg.op).then(
      (result) => process.send!({ id: msg.id, ok: true, result }),
      (err: unknown) => process.send!({ id: msg.id, ok: false, error: (err as Error).stack ?? String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}

// ---- parent side ----
export class ClientProcess {
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`bench client: ${m.error}`));
    });
    child.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`bench client exited with ${code}`));
      this.pending.clear();
    });
  }

  static start(): ClientProcess {
    const child = fork(fileURLToPath(import.meta.url), ['--kura-bench-client'], {
      execArgv: ['--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const c = new ClientProcess(child);
    onCleanup(() => c.stop());
    return c;
  }

  get pid(): number {
    return this.child.pid!;
  }

  private call<T>(op: Op): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, op });
    });
  }

  download(host: string, port: number, path: string, headers: Record<string, string> = {}): Promise<DownloadResult> {
    return this.call({ op: 'download', host, port, path, headers });
  }

  uploadMultipart(session: SessionSpec, folderId: string, name: string, source: SourceSpec): Promise<UploadResult> {
    return this.call({ op: 'multipart', session, folderId, name, source });
  }

  uploadTus(session: SessionSpec, folderId: string, name: string, source: SourceSpec, chunkBytes: number): Promise<UploadResult> {
    return this.call({ op: 'tus', session, folderId, name, source, chunkBytes });
  }

  concurrent(
    session: SessionSpec,
    folderId: string,
    uploads: Array<{ name: string; source: SourceSpec }>,
  ): Promise<{ seconds: number; rs: UploadResult[] }> {
    return this.call({ op: 'concurrent', session, folderId, uploads });
  }

  /** Disconnects (the child then exits by itself); a signal only if it has not within 2 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    if (this.child.connected) this.child.disconnect();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    await stopChild(this.child, 'SIGTERM', 3000);
  }
}

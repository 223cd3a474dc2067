/**
 * The one HTTPS client the files benchmark uses for every figure (Kura and nginx alike): node:https
 * reading responses to nowhere, sending bodies from a file through backpressure. A session with
 * its cookie and CSRF token, as the browser client keeps them.
 */
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { Agent, request, type RequestOptions } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Bytes of a file, cycled (so a 1 GiB file can feed a 2 GiB upload), starting at `offset`. */
export class FileSource {
  constructor(
    readonly file: string,
    readonly fileSize: number,
    readonly length: number,
    readonly offset = 0,
    readonly readChunk = 256 * 1024,
  ) {}

  /** Logical bytes [start, end). */
  async *read(start = 0, end = this.length): AsyncGenerator<Buffer> {
    let pos = start;
    while (pos < end) {
      const at = (this.offset + pos) % this.fileSize;
      const n = Math.min(end - pos, this.fileSize - at);
      for await (const chunk of createReadStream(this.file, { start: at, end: at + n - 1, highWaterMark: this.readChunk }))
        yield chunk as Buffer;
      pos += n;
    }
  }
}

const TLS = { rejectUnauthorized: false } as const;

function cipherOf(res: IncomingMessage): string {
  const s = res.socket as TLSSocket | null;
  const c = s?.getCipher?.();
  return c ? `${s!.getProtocol?.()} ${c.standardName ?? c.name}` : 'unknown';
}

/** One request; `body` is written with backpressure; the answer's body is collected (small answers only). */
export function send(opts: RequestOptions, body?: Buffer | string | AsyncIterable<Buffer>): Promise<Reply & { cipher: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ ...TLS, ...opts });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      const cipher = cipherOf(res); // a kept-alive socket is detached by the end
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), cipher }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      req.end(body);
      return;
    }
    void (async () => {
      for await (const chunk of body) if (!req.write(chunk)) await once(req, 'drain');
      req.end();
    })().catch((err: unknown) => req.destroy(err as Error));
  });
}

export interface DownloadResult {
  status: number;
  bytes: number;
  seconds: number;
  mbPerSecond: number;
  cipher: string;
  headers: IncomingHttpHeaders;
}

/** GET on a fresh connection (handshake included in the time), the body counted and dropped. */
export function download(
  host: string,
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<DownloadResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request({ ...TLS, host, port, path, method: 'GET', headers, agent: false }, (res) => {
      const cipher = cipherOf(res);
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      res.on('end', () => {
        const seconds = (performance.now() - t0) / 1000;
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          seconds,
          mbPerSecond: bytes / 1e6 / seconds,
          cipher,
          headers: res.headers,
        });
      });
      res.on('error', reject);
      res.on('aborted', () => reject(new Error(`download of ${path} aborted after ${bytes} bytes`)));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A signed-in session against `kura serve` (cookie + CSRF token). */
export class KuraSession {
  cookie = '';
  csrf = '';
  readonly agent = new Agent({ keepAlive: true, maxSockets: 64, ...TLS });

  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  headers(extra: Record<string, string> = {}, method = 'GET'): Record<string, string> {
    return {
      ...(this.cookie ? { cookie: this.cookie } : {}),
      ...(this.csrf && method !== 'GET' && method !== 'HEAD' ? { 'x-csrf-token': this.csrf } : {}),
      ...extra,
    };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async json(method: string, path: string, payload?: unknown): Promise<Reply & { json: any }> {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const r = await send(
      {
        host: this.host,
        port: this.port,
        path,
        method,
        agent: this.agent,
        headers: this.headers(body === undefined ? {} : { 'content-type': 'application/json' }, method),
      },
      body,
    );
    const setCookie = r.headers['set-cookie'];
    for (const c of setCookie ?? []) {
      const pair = c.split(';')[0]!;
      if (pair.startsWith('__Host-kura=')) this.cookie = pair;
    }
    let json: unknown;
    try {
      json = r.body.length ? JSON.parse(r.body.toString('utf8')) : null;
    } catch {
      json = r.body.toString('utf8');
    }
    if (json && typeof json === 'object' && 'csrfToken' in json) this.csrf = (json as { csrfToken: string }).csrfToken;
    return { ...r, json };
  }

  async ok(method: string, path: string, payload?: unknown, expect = [200, 201, 204]) {
    const r = await this.json(method, path, payload);
    if (!expect.includes(r.status))
      throw new Error(`${method} ${path} answered ${r.status}: ${r.body.toString('utf8').slice(0, 500)}`);
    return r.json;
  }

  /** Simple upload: one multipart/form-data request on a fresh connection; timed from the request to the 201. */
  async uploadMultipart(folderId: string, name: string, source: FileSource) {
    const boundary = `----kura-bench-${Date.now().toString(16)}`;
    const pre = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const post = Buffer.from(`\r\n--${boundary}--\r\n`);
    async function* body() {
      yield pre;
      yield* source.read();
      yield post;
    }
    const t0 = performance.now();
    const r = await send(
      {
        host: this.host,
        port: this.port,
        method: 'POST',
        path: `/api/v1/folders/${folderId}/files`,
        agent: false,
        headers: this.headers(
          {
            'content-type': `multipart/form-data; boundary=${boundary}`,
            'content-length': String(pre.length + source.length + post.length),
          },
          'POST',
        ),
      },
      body(),
    );
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 201)
      throw new Error(`multipart upload of ${name} answered ${r.status}: ${r.body.toString('utf8').slice(0, 500)}`);
    const dto = JSON.parse(r.body.toString('utf8')) as { id: string; latest: { sha256: string; size: number; state: string } };
    return {
      seconds,
      mbPerSecond: source.length / 1e6 / seconds,
      fileId: dto.id,
      sha256: dto.latest.sha256,
      cipher: r.cipher,
      endedAt: performance.now(),
    };
  }

  /**
   * Resumable upload (tus 1.0, raw requests as tus-js-client sends them): creation, then PATCHes of
   * `chunkBytes` on a kept-alive connection; timed from the creation request to the last PATCH's answer.
   */
  async uploadTus(folderId: string, name: string, source: FileSource, chunkBytes: number) {
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    const tus = { 'tus-resumable': '1.0.0' };
    const t0 = performance.now();
    const created = await send({
      host: this.host,
      port: this.port,
      method: 'POST',
      path: '/api/v1/uploads',
      agent: this.agent,
      headers: this.headers(
        {
          ...tus,
          'upload-length': String(source.length),
          'upload-metadata': `filename ${b64(name)},folderId ${b64(folderId)},filetype ${b64('application/octet-stream')}`,
          'content-length': '0',
        },
        'POST',
      ),
    });
    if (created.status !== 201)
      throw new Error(`tus creation answered ${created.status}: ${created.body.toString('utf8').slice(0, 500)}`);
    const location = String(created.headers.location);
    let offset = 0;
    let patches = 0;
    let fileId: string | null = null;
    let cipher = created.cipher;
    while (offset < source.length) {
      const end = Math.min(source.length, offset + chunkBytes);
      const r = await send(
        {
          host: this.host,
          port: this.port,
          method: 'PATCH',
          path: location,
          agent: this.agent,
          headers: this.headers(
            {
              ...tus,
              'upload-offset': String(offset),
              'content-type': 'application/offset+octet-stream',
              'content-length': String(end - offset),
            },
            'PATCH',
          ),
        },
        source.read(offset, end),
      );
      patches++;
      cipher = r.cipher;
      if (r.status !== 204)
        throw new Error(`tus PATCH at ${offset} answered ${r.status}: ${r.body.toString('utf8').slice(0, 500)}`);
      const next = Number(r.headers['upload-offset']);
      if (!(next > offset)) throw new Error(`tus PATCH at ${offset} made no progress (Upload-Offset ${next})`);
      offset = next;
      if (r.headers['kura-file-id']) fileId = String(r.headers['kura-file-id']);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (!fileId) throw new Error('the last tus PATCH did not answer with Kura-File-Id');
    return { seconds, mbPerSecond: source.length / 1e6 / seconds, fileId, patches, cipher, endedAt: performance.now() };
  }

  async download(fileId: string): Promise<DownloadResult> {
    return download(this.host, this.port, `/api/v1/files/${fileId}/content`, this.headers());
  }

  close(): void {
    this.agent.destroy();
  }
}

/** A cookie- and CSRF-aware client over `inject()`, as a browser would behave. */
import type { App } from '../../src/http/server.js';

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Record<string, string | string[] | undefined>;
}

export class Client {
  cookie: string | null = null;
  csrf: string | null = null;

  constructor(
    public app: App,
    public remoteAddress = '127.0.0.1',
  ) {}

  async req(method: string, url: string, payload?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await this.app.inject({
      method: method as 'GET',
      url,
      remoteAddress: this.remoteAddress,
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
    });
    const setCookie = res.headers['set-cookie'];
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = c.split(';');
      if (pair!.startsWith('__Host-kura='))
        this.cookie = /Expires=Thu, 01 Jan 1970/i.test(c) || pair === '__Host-kura=' ? null : pair!;
    }
    let body: unknown = res.body;
    try {
      body = res.body ? JSON.parse(res.body) : null;
    } catch {
      // not JSON
    }
    if (body && typeof body === 'object' && 'csrfToken' in body) this.csrf = (body as { csrfToken: string }).csrfToken;
    return { status: res.statusCode, body, headers: res.headers as Reply['headers'] };
  }

  /** A request with a raw body (uploads); the answer's body is parsed as JSON when it is JSON. */
  async send(
    method: string,
    url: string,
    payload: Buffer | string,
    headers: Record<string, string> = {},
  ): Promise<Reply & { raw: Buffer }> {
    const res = await this.app.inject({
      method: method as 'POST',
      url,
      remoteAddress: this.remoteAddress,
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(this.csrf && method !== 'GET' && method !== 'HEAD' ? { 'x-csrf-token': this.csrf } : {}),
        ...headers,
      },
      payload,
    });
    let body: unknown;
    try {
      body = res.body ? JSON.parse(res.body) : null;
    } catch {
      body = res.body;
    }
    return { status: res.statusCode, body, headers: res.headers as Reply['headers'], raw: res.rawPayload };
  }

  get(url: string) {
    return this.req('GET', url);
  }
  post(url: string, payload: unknown = {}, headers?: Record<string, string>) {
    return this.req('POST', url, payload, headers);
  }
}

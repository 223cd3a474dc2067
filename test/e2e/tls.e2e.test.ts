import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKura, type RunningKura } from '../support/cli.js';

let k: RunningKura;
let cwd: string;

beforeAll(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'kura-tls-'));
  k = await startKura({ cwd });
});
afterAll(async () => {
  await k?.stop();
  rmSync(cwd, { recursive: true, force: true });
});

interface Handshake {
  ok: boolean;
  protocol?: string | null;
  cipher?: string;
  group?: string;
  error?: string;
}

function handshake(port: number, opts: ConnectionOptions): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ...opts }, () => {
      const result = {
        ok: true,
        protocol: socket.getProtocol(),
        cipher: socket.getCipher().standardName,
        group: socket.getEphemeralKeyInfo() && (socket.getEphemeralKeyInfo() as { name?: string }).name,
      };
      socket.end();
      resolve(result as Handshake);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, error: err.code ?? err.message }));
  });
}

function get(port: number, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, rejectUnauthorized: false, minVersion: 'TLSv1.3' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const ports = () =>
  [
    ['lgwan', k.lgwanPort],
    ['internet', k.internetPort],
  ] as const;

describe('TLS on both zone listeners [TLS-01]', () => {
  it('serves /healthz over TLS 1.3 with an AES-GCM suite on both zones', async () => {
    for (const [zone, port] of ports()) {
      const hs = await handshake(port, { minVersion: 'TLSv1.3' });
      expect(hs, zone).toMatchObject({ ok: true, protocol: 'TLSv1.3' });
      expect(hs.cipher).toMatch(/^TLS_AES_(128|256)_GCM_SHA(256|384)$/);
      const res = await get(port, '/healthz');
      expect([res.status, res.body]).toEqual([200, '{"status":"ok"}']);
    }
  });

  it('refuses TLS 1.1 and 1.0 handshakes (the server sends a protocol_version alert)', async () => {
    for (const [, port] of ports()) {
      for (const v of ['TLSv1.1', 'TLSv1'] as const) {
        // SECLEVEL=0 lets this client offer old protocols, so the refusal is the server's.
        const hs = await handshake(port, { minVersion: v, maxVersion: v, ciphers: 'DEFAULT@SECLEVEL=0' });
        expect(hs.ok).toBe(false);
        expect(hs.error).toMatch(/ALERT_PROTOCOL_VERSION|TLSV1_ALERT_PROTOCOL_VERSION/);
      }
    }
  });

  it('accepts TLS 1.2 only with ECDHE and AES-GCM', async () => {
    for (const [, port] of ports()) {
      const good = await handshake(port, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
      expect(good).toMatchObject({ ok: true, protocol: 'TLSv1.2' });
      for (const weak of [
        'ECDHE-ECDSA-AES128-SHA',
        'ECDHE-ECDSA-AES256-SHA384',
        'ECDHE-ECDSA-CHACHA20-POLY1305',
        'AES128-GCM-SHA256',
      ]) {
        const hs = await handshake(port, { maxVersion: 'TLSv1.2', ciphers: `${weak}@SECLEVEL=0` });
        expect(hs.ok, weak).toBe(false);
        expect(hs.error).toMatch(/HANDSHAKE_FAILURE|NO_SHARED_CIPHER|ALERT/);
      }
    }
  });

  it('presents a self-signed ECDSA P-256 certificate for localhost and 127.0.0.1 on first start', async () => {
    const cert = await new Promise<{ asn1Curve?: string; subjectaltname?: string; subject: { CN?: string } }>(
      (resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port: k.lgwanPort, rejectUnauthorized: false }, () => {
          resolve(s.getPeerCertificate() as never);
          s.end();
        });
        s.on('error', reject);
      },
    );
    expect(cert.asn1Curve).toBe('prime256v1');
    expect(cert.subject.CN).toBe('localhost');
    expect(cert.subjectaltname).toMatch(/DNS:localhost/);
    expect(cert.subjectaltname).toMatch(/IP Address:127.0.0.1/);
  });

  it('sends HSTS on the internet zone only', async () => {
    expect((await get(k.internetPort, '/healthz')).headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect((await get(k.lgwanPort, '/healthz')).headers['strict-transport-security']).toBeUndefined();
  });

  it('reports both zones operational on the public status endpoint [SC-03]', async () => {
    const res = await get(k.lgwanPort, '/api/v1/status');
    expect(JSON.parse(res.body)).toMatchObject({
      overall: 'operational',
      via: 'lgwan',
      zones: [
        { zone: 'lgwan', state: 'operational' },
        { zone: 'internet', state: 'operational' },
      ],
    });
  });
});

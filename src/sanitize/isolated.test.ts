/**
 * 無害化 engines on a thread per file (MAL-07): what they read and write crosses the thread intact,
 * errors keep their meaning, and an engine that hangs or grows is stopped as `limit` while the
 * server's event loop carries on.
 */
import { PDFDocument, PDFName, PDFString } from 'pdf-lib';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../crypto/primitives.js';
import { defaultSanitizers, pickSanitizer } from './index.js';
import { IsolatedSanitizer, type IsolationLimits } from './isolated.js';
import { SanitizeError, SanitizeRetry, type SanitizeSource } from './sanitizer.js';
import { docm } from '../../test/support/office-fixtures.js';
import { runEngine, sourceOf, unzipText } from '../../test/support/sanitize.js';

const ENGINES = new URL('../../test/support/engines.ts', import.meta.url);
const isolated = (name: string, limits: IsolationLimits = { timeoutMs: 60_000, heapMb: 256 }) =>
  new IsolatedSanitizer(name, () => true, ENGINES, name, limits);

/** A source over bytes that arrives in 64 KiB chunks, as the vault delivers it. */
function chunked(name: string, data: Buffer): SanitizeSource {
  const pieces = (from: Buffer) =>
    Array.from({ length: Math.ceil(from.length / 65536) }, (_, i) => from.subarray(i * 65536, (i + 1) * 65536));
  return {
    ...sourceOf(name, data, null),
    open: () => Promise.resolve(Readable.from(pieces(data))),
    openRange: (s, e) => Promise.resolve(Readable.from(pieces(data.subarray(s, e + 1)))),
  };
}

class StorageDown extends Error {
  override name = 'StorageDown';
}

describe('無害化 on a thread of its own (MAL-07)', () => {
  it('streams the file to the engine and its rebuild back byte for byte, with the tenant policy [MAL-07]', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 123);
    const { outcome, out } = await runEngine(isolated('CopyEngine'), {
      ...chunked('a.bin', data),
      policy: { pdfMode: 'strict' },
    });
    expect(outcome).toMatchObject({ result: 'sanitised', name: 'a.bin', removed: [{ detail: 'strict' }] });
    expect(out.equals(data)).toBe(true);
  });

  it('runs the real OOXML engine (ranged reads) and PDF engine (whole reads) on the thread [MAL-07]', async () => {
    const engines = defaultSanitizers();
    const ooxml = pickSanitizer(engines, { name: 'r.docm', detectedMime: 'application/zip' });
    expect(ooxml).toBeInstanceOf(IsolatedSanitizer);
    const word = await runEngine(ooxml!, chunked('報告書.docm', await docm()));
    expect(word.outcome).toMatchObject({ result: 'sanitised_with_loss', name: '報告書.docx' });
    const parts = await unzipText(word.out);
    expect([...parts.keys()]).toContain('word/document.xml');
    expect([...parts.keys()].filter((p) => /vbaProject|activeX/i.test(p))).toEqual([]);

    const doc = await PDFDocument.create();
    doc.addPage([100, 100]).drawText('Kura');
    doc.catalog.set(
      PDFName.of('OpenAction'),
      doc.context.register(doc.context.obj({ S: 'JavaScript', JS: PDFString.of('app.alert(1)') })),
    );
    const pdfEngine = pickSanitizer(engines, { name: 'n.pdf', detectedMime: 'application/pdf' });
    expect(pdfEngine).toBeInstanceOf(IsolatedSanitizer);
    const pdf = await runEngine(pdfEngine!, {
      ...chunked('通知.pdf', Buffer.from(await doc.save())),
      detectedMime: 'application/pdf',
    });
    expect(pdf.outcome).toMatchObject({
      result: 'sanitised',
      name: '通知.pdf',
      removed: expect.arrayContaining([expect.objectContaining({ kind: 'javascript' })]),
    });
    expect(pdf.out.toString('latin1')).not.toContain('/JavaScript');
  });

  it('stops an engine that never returns, as a limit, while the event loop keeps serving [MAL-07]', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 20);
    try {
      await expect(
        runEngine(isolated('SpinEngine', { timeoutMs: 1500, heapMb: 64 }), chunked('x.bin', Buffer.alloc(10))),
      ).rejects.toMatchObject({
        name: 'SanitizeError',
        code: 'limit',
        message: expect.stringContaining('longer than'),
      });
    } finally {
      clearInterval(timer);
    }
    // In the server's process the spinning engine would have held the loop for all 1.5 s.
    expect(ticks).toBeGreaterThan(10);
    // And the next file is served as usual.
    const data = randomBytes(1000);
    expect((await runEngine(isolated('CopyEngine'), chunked('y.bin', data))).out.equals(data)).toBe(true);
  });

  it('stops an engine that outgrows its heap, as a limit [MAL-07]', async () => {
    await expect(
      runEngine(isolated('HogEngine', { timeoutMs: 60_000, heapMb: 64 }), chunked('x.bin', Buffer.alloc(10))),
    ).rejects.toMatchObject({
      name: 'SanitizeError',
      code: 'limit',
      message: expect.stringContaining('64 MiB'),
    });
  });

  it("keeps the engine's verdict: a SanitizeError keeps its code, anything else is not one [MAL-07]", async () => {
    const enc = Buffer.concat([Buffer.from('ENC!'), randomBytes(200_000)]);
    await expect(runEngine(isolated('RangeEngine'), chunked('e.bin', enc))).rejects.toSatisfy(
      (e) => e instanceof SanitizeError && e.code === 'encrypted' && e.message === 'password-protected',
    );
    await expect(runEngine(isolated('RangeEngine'), chunked('e.bin', Buffer.from('PK\x03\x04rest')))).rejects.toSatisfy(
      (e) => !(e instanceof SanitizeError) && (e as Error).name === 'TypeError' && (e as Error).message.includes('504b0304'),
    );
  });

  it("rethrows the sink's own failure (storage down: the job retries), not the engine's echo of it [MAL-07]", async () => {
    const failure = new StorageDown('blob store unreachable');
    await expect(
      isolated('CopyEngine').sanitize(chunked('a.bin', randomBytes(1_000_000)), async (body) => {
        for await (const _ of body) throw failure;
      }),
    ).rejects.toBe(failure);
  });

  it('an engine stopped mid-write fails as a limit, not as the storage error its stop causes [MAL-07]', async () => {
    let sinkSaw: unknown = null;
    await expect(
      isolated('StallEngine', { timeoutMs: 1500, heapMb: 64 }).sanitize(chunked('a.bin', Buffer.alloc(10)), async (body) => {
        try {
          for await (const _ of body) {
            /* storing */
          }
        } catch (err) {
          sinkSaw = err;
          throw new StorageDown('write aborted');
        }
      }),
    ).rejects.toMatchObject({ name: 'SanitizeError', code: 'limit' });
    // The half-written rebuild was aborted (so the vault removes it), before the stage went on.
    expect(sinkSaw).toMatchObject({ code: 'limit' });
  });

  it('tells storage that stalls under the engine from an engine that runs long: the job is retried [MAL-07]', async () => {
    const stalled: SanitizeSource = {
      ...sourceOf('a.bin', Buffer.alloc(10), null),
      open: () => Promise.resolve(new Readable({ read() {} })), // never delivers a byte
    };
    await expect(runEngine(isolated('CopyEngine', { timeoutMs: 300, heapMb: 64 }), stalled)).rejects.toSatisfy(
      (e) => e instanceof SanitizeRetry && /stalled/.test((e as Error).message),
    );
  });

  it('is retried, not a verdict on the file, when the engine cannot be loaded [MAL-07]', async () => {
    const missing = new IsolatedSanitizer('x', () => true, new URL('./no-such-engine.ts', import.meta.url), 'Nothing');
    await expect(runEngine(missing, chunked('a.bin', Buffer.alloc(10)))).rejects.toBeInstanceOf(SanitizeRetry);
  });

  it("keeps the engine's own failure when it abandons its rebuild, whatever the sink then says [MAL-07]", async () => {
    for (let i = 0; i < 5; i++)
      await expect(
        isolated('AbortEngine')
          .sanitize(chunked('a.bin', Buffer.alloc(10)), async (body) => {
            for await (const _ of body) {
              /* storing */
            }
          })
          .catch((e: unknown) => e),
      ).resolves.toMatchObject({ name: 'SanitizeError', code: 'malformed', message: 'entry data corrupt' });
  });

  it("passes a failing source's error to the engine [MAL-07]", async () => {
    const broken: SanitizeSource = {
      ...sourceOf('a.bin', Buffer.alloc(10), null),
      open: () =>
        Promise.resolve(
          new Readable({
            read() {
              this.destroy(new Error('EIO: disk read failed'));
            },
          }),
        ),
    };
    await expect(runEngine(isolated('CopyEngine'), broken)).rejects.toMatchObject({ message: expect.stringContaining('EIO') });
  });
});

/** Running a 無害化 engine in a unit test: a source over bytes, the rebuilt bytes, zip parts as text. */
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { SanitizeOutcome, SanitizeSink, SanitizeSource } from '../../src/sanitize/sanitizer.js';

export function sourceOf(name: string, data: Buffer, detectedMime: string | null): SanitizeSource {
  return {
    name,
    size: data.length,
    detectedMime,
    open: () => Promise.resolve(Readable.from([data])),
    openRange: (s, e) => Promise.resolve(Readable.from([data.subarray(s, e + 1)])),
  };
}

/** Runs an engine on a source and collects what it wrote. */
export async function runEngine(
  engine: { sanitize: (source: SanitizeSource, sink: SanitizeSink) => Promise<SanitizeOutcome> },
  src: SanitizeSource,
): Promise<{ outcome: SanitizeOutcome; out: Buffer }> {
  let out = Buffer.alloc(0);
  const outcome = await engine.sanitize(src, async (body) => {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    out = Buffer.concat(chunks);
  });
  return { outcome, out };
}

/** Every entry of a zip (an OOXML package) as UTF-8 text, by name. */
export function unzipText(buf: Buffer): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const out = new Map<string, string>();
      zip.on('entry', (e: yauzl.Entry) => {
        zip.openReadStream(e, (err2, s) => {
          if (err2) return reject(err2);
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c));
          s.on('end', () => {
            out.set(e.fileName, Buffer.concat(chunks).toString('utf8'));
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.readEntry();
    });
  });
}

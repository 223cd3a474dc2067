/**
 * 無害化 engines for the isolation tests (src/sanitize/isolated.test.ts), each loaded by module URL
 * on an engine thread: one that copies its input, one that never returns, one that fills its heap,
 * and one that reads a range and then refuses the file.
 */
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import {
  SanitizeError,
  type Sanitizer,
  type SanitizeOutcome,
  type SanitizeSink,
  type SanitizeSource,
} from '../../src/sanitize/sanitizer.js';

const done = (source: SanitizeSource): SanitizeOutcome => ({
  result: 'sanitised',
  engine: 'test',
  name: source.name,
  contentType: 'application/octet-stream',
  removed: [{ kind: 'policy', count: 1, detail: source.policy?.pdfMode ?? 'none' }],
});

/** Writes its input back unchanged, through the sink. */
export class CopyEngine implements Sanitizer {
  readonly engine = 'test-copy';
  handles(): boolean {
    return true;
  }
  async sanitize(source: SanitizeSource, sink: SanitizeSink): Promise<SanitizeOutcome> {
    const out = new PassThrough();
    await Promise.all([pipeline(await source.open(), out), sink(out)]);
    return done(source);
  }
}

/** Never returns and never yields: a parser caught in a loop. */
export class SpinEngine implements Sanitizer {
  readonly engine = 'test-spin';
  handles(): boolean {
    return true;
  }
  sanitize(): Promise<SanitizeOutcome> {
    for (;;) {
      /* spinning */
    }
  }
}

/** Keeps every object it makes: a parser building an unbounded tree. */
export class HogEngine implements Sanitizer {
  readonly engine = 'test-hog';
  handles(): boolean {
    return true;
  }
  sanitize(): Promise<SanitizeOutcome> {
    const kept: object[] = [];
    for (let i = 0; ; i++) kept.push({ i, s: `${i}`.repeat(8), a: [i, i + 1, i + 2] });
  }
}

/** Reads bytes [0, 3] and refuses the file as encrypted when they are "ENC!". */
export class RangeEngine implements Sanitizer {
  readonly engine = 'test-range';
  handles(): boolean {
    return true;
  }
  async sanitize(source: SanitizeSource): Promise<SanitizeOutcome> {
    const chunks: Buffer[] = [];
    for await (const c of await source.openRange(0, 3)) chunks.push(c as Buffer);
    if (Buffer.concat(chunks).toString('latin1') === 'ENC!') throw new SanitizeError('encrypted', 'password-protected');
    throw new TypeError(`unexpected header ${Buffer.concat(chunks).toString('hex')}`);
  }
}

/** Starts writing its result, then hangs: stopped with part of a rebuilt file in the sink. */
export class StallEngine implements Sanitizer {
  readonly engine = 'test-stall';
  handles(): boolean {
    return true;
  }
  async sanitize(_source: SanitizeSource, sink: SanitizeSink): Promise<SanitizeOutcome> {
    const out = new PassThrough();
    void sink(out).catch(() => {});
    out.write(Buffer.alloc(1024, 1));
    await new Promise((r) => setTimeout(r, 200));
    for (;;) {
      /* hung after the first chunk */
    }
  }
}

/** Fails mid-rebuild the way the OOXML engine does: its output is destroyed, then the error rethrown. */
export class AbortEngine implements Sanitizer {
  readonly engine = 'test-abort';
  handles(): boolean {
    return true;
  }
  async sanitize(_source: SanitizeSource, sink: SanitizeSink): Promise<SanitizeOutcome> {
    const out = new PassThrough();
    const stored = sink(out);
    out.write(Buffer.alloc(1024, 2));
    await new Promise((r) => setTimeout(r, 50));
    const err = new SanitizeError('malformed', 'entry data corrupt');
    out.destroy(err);
    await stored.catch(() => {});
    throw err;
  }
}

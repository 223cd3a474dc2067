/**
 * Plain text and CSV (MAL-07): decoded as UTF-8 when it is valid UTF-8, otherwise as Shift_JIS
 * (cp932, what Japanese Windows software writes); control characters other than tab and line breaks
 * are dropped; the result is UTF-8 (a CSV gets a BOM so Excel opens it as UTF-8).
 */
import { Readable } from 'node:stream';
import { extensionOf } from '../malware/true-type.js';
import {
  noteRemoved,
  readAllLimited,
  SanitizeError,
  type Removed,
  type SanitizeOutcome,
  type SanitizeSink,
  type SanitizeSource,
  type Sanitizer,
} from './sanitizer.js';

const TEXT_EXTENSIONS = new Set(['txt', 'csv', 'tsv', 'log', 'md']);
/** Text is decoded whole: larger text files are held for review instead. */
export const TEXT_MAX_BYTES = 64 * 1024 * 1024;
// C0 controls except TAB, LF, CR; DEL; C1 controls; bidi overrides and isolates (Trojan Source).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;

export class TextSanitizer implements Sanitizer {
  readonly engine = 'kura-text';

  handles(s: Pick<SanitizeSource, 'name' | 'detectedMime'>): boolean {
    return s.detectedMime === null && TEXT_EXTENSIONS.has(extensionOf(s.name));
  }

  async sanitize(source: SanitizeSource, sink: SanitizeSink): Promise<SanitizeOutcome> {
    const raw = await readAllLimited(await source.open(), TEXT_MAX_BYTES);
    const removed: Removed[] = [];
    const { text, encoding } = decode(raw);
    if (encoding !== 'utf-8') noteRemoved(removed, 'reencoded', encoding);
    let body = text.startsWith('\ufeff') ? text.slice(1) : text;
    const controls = body.match(CONTROL)?.length ?? 0;
    if (controls) {
      body = body.replace(CONTROL, '');
      noteRemoved(removed, 'control_characters', undefined, controls);
    }
    const csv = ['csv', 'tsv'].includes(extensionOf(source.name));
    if (csv) {
      // Formula injection: a cell starting with = + - @ (e.g. =cmd|'/c calc'!A1) becomes text in spreadsheet programs.
      let formulas = 0;
      body = body.replace(/(^|[,\t\n])("?)([=+\-@])(?=[^\d\s,\t\n])/g, (_m, sep: string, q: string, c: string) => {
        formulas++;
        return `${sep}${q}'${c}`;
      });
      if (formulas) noteRemoved(removed, 'csv_formula', undefined, formulas);
    }
    await sink(Readable.from([Buffer.from((csv ? '\ufeff' : '') + body, 'utf8')]));
    return {
      result: 'sanitised',
      engine: this.engine,
      name: source.name,
      contentType: csv ? 'text/csv; charset=utf-8' : 'text/plain; charset=utf-8',
      removed,
    };
  }
}

/** UTF-8 if the bytes are valid UTF-8, else Shift_JIS; anything neither decodes to is refused. */
export function decode(raw: Buffer): { text: string; encoding: 'utf-8' | 'shift_jis' } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(raw), encoding: 'utf-8' };
  } catch {
    try {
      return { text: new TextDecoder('shift_jis', { fatal: true }).decode(raw), encoding: 'shift_jis' };
    } catch {
      throw new SanitizeError('malformed', 'neither UTF-8 nor Shift_JIS text');
    }
  }
}

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
      const defused = defuseCsvFormulas(body);
      body = defused.text;
      if (defused.count) noteRemoved(removed, 'csv_formula', undefined, defused.count);
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

/** Ends an unquoted cell: a separator (comma or tab, whichever the file uses) or a line break (CRLF, LF, CR). */
const CELL_END = /[,\t\r\n]/g;
/** What a spreadsheet program reads as a formula at the start of a cell (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;
/** Stays as it is: a plain number (-12, +3.5, "-1,234", -1.5E+3, -5%) or a lone "-" (該当なし in statistics tables). */
const PLAIN_NUMBER = /^(?:[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?%?|-)$/;

/**
 * Formula injection (MAL-07): every cell, quoted or not, that starts with = + - @ tab or CR is read by
 * Excel and LibreOffice as a formula (=1+cmd|' /C calc'!A0 starts a program), so it gets a leading
 * apostrophe and shows as text, unless the whole cell is a plain number. Quoted cells may hold
 * separators, doubled quotes and line breaks; rows end with CRLF, LF or a bare CR.
 */
export function defuseCsvFormulas(body: string): { text: string; count: number } {
  const out: string[] = [];
  let count = 0;
  let copied = 0;
  let cell = 0;
  for (;;) {
    const quoted = body[cell] === '"';
    const valueAt = quoted ? cell + 1 : cell;
    const close = quoted ? closingQuote(body, valueAt) : -1;
    CELL_END.lastIndex = quoted ? close + 1 : cell;
    const end = CELL_END.exec(body)?.index ?? body.length;
    const valueEnd = quoted ? close : end;
    if (valueAt < valueEnd && FORMULA_START.test(body[valueAt]!)) {
      const value = body.slice(valueAt, valueEnd);
      if (!PLAIN_NUMBER.test(quoted ? value.replaceAll('""', '"') : value)) {
        out.push(body.slice(copied, valueAt), "'");
        copied = valueAt;
        count++;
      }
    }
    if (end >= body.length) break;
    cell = end + (body[end] === '\r' && body[end + 1] === '\n' ? 2 : 1);
  }
  out.push(body.slice(copied));
  return { text: out.join(''), count };
}

/** The quote that ends a quoted cell (a doubled quote is a quote inside it), or the end of the text. */
function closingQuote(body: string, from: number): number {
  let i = body.indexOf('"', from);
  while (i >= 0 && body[i + 1] === '"') i = body.indexOf('"', i + 2);
  return i < 0 ? body.length : i;
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

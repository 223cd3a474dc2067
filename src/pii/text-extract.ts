/**
 * Text of a file for personal-data checks (PII-01): plain text and CSV (UTF-8 or Shift_JIS), Office
 * Open XML (Word paragraphs, Excel shared and inline strings and numbers, PowerPoint text runs) and
 * PDF (pdftotext from poppler-utils, PDF on stdin, text on stdout: nothing on disk). Bounded: at most
 * `maxChars` characters are returned and zip parts are read within the same limits as 無害化.
 * Returns null for formats it does not read.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Entry } from 'yauzl';
import { extensionOf } from '../malware/true-type.js';
import { readAllLimited, SanitizeError } from '../sanitize/sanitizer.js';
import { decode } from '../sanitize/text.sanitizer.js';

export const EXTRACT_MAX_INPUT = 64 * 1024 * 1024;
export const EXTRACT_MAX_CHARS = 4 * 1024 * 1024;

export interface ExtractSource {
  name: string;
  detectedMime: string | null;
  open(): Promise<Readable>;
}

/**
 * Text as Excel and Windows tools write it: UTF-8, Shift_JIS, or UTF-16 (「Unicode テキスト」), with
 * or without a byte-order mark. UTF-16 without one is told by its NUL bytes, which neither of the
 * others has in text (a NUL-interleaved "UTF-8" would otherwise hide every digit run from the check).
 */
export function decodeForCheck(raw: Buffer): string {
  if (raw[0] === 0xff && raw[1] === 0xfe) return new TextDecoder('utf-16le').decode(raw.subarray(2));
  if (raw[0] === 0xfe && raw[1] === 0xff) return new TextDecoder('utf-16be').decode(raw.subarray(2));
  const sample = raw.subarray(0, 4096 - (Math.min(raw.length, 4096) % 2));
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < sample.length; i++) {
    if (sample[i] !== 0) continue;
    if (i % 2) oddNul++;
    else evenNul++;
  }
  const half = sample.length / 2;
  if (half > 0 && oddNul > half * 0.3 && evenNul < half * 0.05) return new TextDecoder('utf-16le').decode(raw);
  if (half > 0 && evenNul > half * 0.3 && oddNul < half * 0.05) return new TextDecoder('utf-16be').decode(raw);
  return decode(raw).text;
}

export async function extractText(source: ExtractSource, maxChars = EXTRACT_MAX_CHARS): Promise<string | null> {
  const ext = extensionOf(source.name);
  if (source.detectedMime === null && ['txt', 'csv', 'tsv', 'log', 'md'].includes(ext)) {
    return decodeForCheck(await readAllLimited(await source.open(), EXTRACT_MAX_INPUT)).slice(0, maxChars);
  }
  if (source.detectedMime === 'application/pdf')
    return pdfText(await readAllLimited(await source.open(), EXTRACT_MAX_INPUT), maxChars);
  if (['docx', 'docm', 'xlsx', 'xlsm', 'pptx', 'pptm'].includes(ext)) {
    return ooxmlText(await readAllLimited(await source.open(), EXTRACT_MAX_INPUT), maxChars);
  }
  return null;
}

/** Text nodes of the parts that carry a document's words. */
async function ooxmlText(zip: Buffer, maxChars: number): Promise<string> {
  const { default: yauzl } = await import('yauzl');
  const wanted =
    /^(word\/(document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml|xl\/sharedStrings\.xml|xl\/worksheets\/[^/]+\.xml|ppt\/slides\/[^/]+\.xml|ppt\/notesSlides\/[^/]+\.xml)$/;
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, validateEntrySizes: true }, (err, file) => {
      if (err) return reject(new SanitizeError('malformed', err.message));
      const parts: string[] = [];
      let chars = 0;
      let total = 0;
      file.on('entry', (e: Entry) => {
        total += e.uncompressedSize;
        if (!wanted.test(e.fileName) || chars >= maxChars) return file.readEntry();
        if (e.uncompressedSize > EXTRACT_MAX_INPUT || total > 16 * EXTRACT_MAX_INPUT) {
          file.close();
          return reject(new SanitizeError('limit', `${e.fileName} is too large to read`));
        }
        file.openReadStream(e, (err2, s) => {
          if (err2) return reject(new SanitizeError('malformed', err2.message));
          readAllLimited(s, EXTRACT_MAX_INPUT).then((buf) => {
            const text = xmlText(buf.toString('utf8'));
            parts.push(text);
            chars += text.length;
            file.readEntry();
          }, reject);
        });
      });
      file.on('end', () => resolve(parts.join('\n').slice(0, maxChars)));
      file.on('error', (e: Error) => reject(new SanitizeError('malformed', e.message)));
      file.readEntry();
    });
  });
}

/** The character data of Word (w:t), Excel (t, v) and PowerPoint (a:t) text elements, paragraph by paragraph. */
export function xmlText(xml: string): string {
  const out: string[] = [];
  // Paragraph-like ends become line breaks, Excel cell ends tabs; Word runs join without a gap.
  const re = /<(w:t|a:t|t|v)(?:\s[^>]*)?>([^<]*)<\/\1>|<\/(w:p|a:p|row|si|c)>/g;
  for (const m of xml.matchAll(re)) {
    if (m[3]) out.push(m[3] === 'c' ? '\t' : '\n');
    else out.push(unescape(m[2]!));
  }
  return out.join('');
}

function unescape(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#(\d+)|#x([0-9a-f]+));/gi, (all, name: string, dec?: string, hex?: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as Record<string, string>)[name.toLowerCase()] ?? all;
  });
}

function pdfText(pdf: Buffer, maxChars: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('pdftotext', ['-q', '-enc', 'UTF-8', '-', '-'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (out.length < maxChars) out += d;
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new SanitizeError('unsupported', `PDF text needs pdftotext (poppler-utils): ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new SanitizeError('malformed', `pdftotext exited with ${code}`));
      resolve(out.slice(0, maxChars));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(pdf);
  });
}

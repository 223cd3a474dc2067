/**
 * PDF 無害化 (MAL-07) with pdf-lib: the document is parsed into objects and written out again as a
 * new file (incremental updates, trailing bytes and unreferenced tricks do not survive the rewrite),
 * after removing, wherever they appear:
 *   - JavaScript: /JS and /JavaScript entries, the /Names JavaScript tree, JavaScript actions;
 *   - automatic actions: the catalog's /OpenAction, every /AA (additional actions) dictionary;
 *   - dangerous actions: Launch, ImportData, SubmitForm, GoToE, RichMediaExecute, Rendition, and URI
 *     actions that point anywhere but http(s)/mailto (file:, UNC paths);
 *   - embedded files: the /EmbeddedFiles tree, /EF of file specifications, /AF associated files,
 *     FileAttachment annotations;
 *   - XFA forms (/XFA in the AcroForm).
 * Encrypted PDFs are not opened (the tenant's encrypted-content policy decides). The PDF is read
 * whole (pdf-lib works in memory), so files over PDF_MAX_BYTES are held for review instead.
 * In the tenant's strict mode every page is rendered to an image instead (pdftoppm, poppler-utils)
 * and a new PDF is built from the images alone.
 */
import { spawn } from 'node:child_process';
import { constants as zlibConstants, inflateSync } from 'node:zlib';
import { Readable } from 'node:stream';
import type * as PdfLib from 'pdf-lib';
import type { PDFDict, PDFDocument, PDFObject } from 'pdf-lib';
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

export const PDF_MAX_BYTES = 200 * 1024 * 1024;
/**
 * What every object stream (/Type /ObjStm) of one PDF may expand to, together. pdf-lib inflates and
 * parses them all while loading, in this process: a 1 MB file whose object stream inflates to
 * 256 MiB of filler took 45 s and 2 GB. Ordinary documents stay far below this.
 */
export const PDF_MAX_OBJECT_STREAM_BYTES = 32 * 1024 * 1024;
const PLAIN_FILTERS = new Set(['FlateDecode', 'Fl']);

/**
 * Refuses, before pdf-lib sees it, a PDF whose object streams expand past the bound or use a filter
 * other than Flate (whose output could not be bounded here). Names are compared decoded (`#xx`), so
 * `/Obj#53tm` is an object stream too. Input that does not inflate is left to pdf-lib to judge.
 */
export function checkObjectStreams(bytes: Buffer, budget = PDF_MAX_OBJECT_STREAM_BYTES): void {
  const text = bytes.toString('latin1');
  const name = /\/((?:[A-Za-z0-9]|#[0-9A-Fa-f]{2})+)/g;
  const decode = (n: string) => n.replace(/#([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  const streamKeyword = /(?<![A-Za-z])stream(\r\n|\n|\r)/g;
  let left = budget;
  for (let m = name.exec(text); m; m = name.exec(text)) {
    if (decode(m[1]!) !== 'ObjStm') continue;
    streamKeyword.lastIndex = m.index;
    const kw = streamKeyword.exec(text);
    if (!kw) break;
    // The dictionary (from the ObjStm name to the stream keyword) names the filters.
    const dict = text.slice(m.index, kw.index);
    const filters = [...dict.matchAll(/\/((?:[A-Za-z0-9]|#[0-9A-Fa-f]{2})+)/g)]
      .map((f) => decode(f[1]!))
      .filter((f) => /Decode$|^(Fl|LZW|A85|AHx|RL|CCF|DCT)$/.test(f));
    if (filters.length > 1 || filters.some((f) => !PLAIN_FILTERS.has(f))) {
      throw new SanitizeError('unsupported', `object stream filter ${filters.join(',')}`);
    }
    const start = kw.index + kw[0].length;
    const end = text.indexOf('endstream', start);
    const data = bytes.subarray(start, end < 0 ? bytes.length : end);
    let out: Buffer;
    try {
      out = filters.length ? inflateSync(data, { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: left + 1 }) : data;
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
        throw new SanitizeError('limit', 'object streams expand past the bound');
      }
      continue;
    }
    left -= out.length;
    if (left < 0) throw new SanitizeError('limit', 'object streams expand past the bound');
    name.lastIndex = start;
  }
}

/**
 * pdf-lib is loaded with the first PDF, not at start (a few MB of heap a server may never need);
 * every helper below runs only after `loadPdfLib()` in `sanitize`.
 */
let lib!: typeof PdfLib;
async function loadPdfLib(): Promise<void> {
  lib ??= await import('pdf-lib');
}

const N = (s: string) => lib.PDFName.of(s);
const DANGEROUS_ACTIONS = new Set([
  'JavaScript',
  'Launch',
  // Remote go-to and threads open another file (\\\\server\\share\\x.pdf leaks NTLM credentials).
  'GoToR',
  'Thread',
  'GoTo3DView',
  'ImportData',
  'SubmitForm',
  'GoToE',
  'RichMediaExecute',
  'Rendition',
  'ResetForm',
]);
const SAFE_URI = /^(https?:|mailto:)/i;

export class PdfSanitizer implements Sanitizer {
  readonly engine = 'kura-pdf';

  constructor(private readonly options: PdfSanitizerOptions = {}) {}

  /**
   * Strict mode: every page becomes a picture of itself (pdftoppm at 150 dpi) in a new PDF built
   * from nothing but those images: no object of the original survives. Text is no longer
   * selectable, hence `sanitised_with_loss`.
   */
  private async rasterise(source: SanitizeSource, bytes: Buffer, sink: SanitizeSink): Promise<SanitizeOutcome> {
    let sizes: Array<{ width: number; height: number }>;
    try {
      const doc = await lib.PDFDocument.load(bytes, { updateMetadata: false, throwOnInvalidObject: true });
      sizes = doc.getPages().map((p) => p.getSize());
    } catch (err) {
      const e = err as Error;
      if (/encrypted/i.test(e.name) || /encrypted/i.test(e.message)) throw new SanitizeError('encrypted', 'encrypted PDF');
      throw new SanitizeError('malformed', `not a readable PDF: ${e.message.slice(0, 160)}`);
    }
    if (sizes.length === 0) throw new SanitizeError('malformed', 'a PDF without pages');
    if (sizes.length > STRICT_MAX_PAGES)
      throw new SanitizeError('limit', `${sizes.length} pages (strict mode renders at most ${STRICT_MAX_PAGES})`);
    const out = await lib.PDFDocument.create();
    const bin = this.options.pdftoppm ?? 'pdftoppm';
    // A batch of pages per pdftoppm run keeps memory to a few page images at a time.
    for (let first = 1; first <= sizes.length; first += 10) {
      const last = Math.min(sizes.length, first + 9);
      const pngs = await renderPages(bin, bytes, first, last, 120_000);
      if (pngs.length !== last - first + 1)
        throw new SanitizeError('malformed', `rendered ${pngs.length} of ${last - first + 1} pages`);
      for (let i = 0; i < pngs.length; i++) {
        const { width, height } = sizes[first - 1 + i]!;
        const image = await out.embedPng(pngs[i]!);
        out.addPage([width, height]).drawImage(image, { x: 0, y: 0, width, height });
      }
    }
    const pdf = await out.save({ useObjectStreams: true });
    await sink(Readable.from([Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength)]));
    return {
      result: 'sanitised_with_loss',
      engine: `${this.engine}-strict`,
      name: source.name,
      contentType: 'application/pdf',
      removed: [{ kind: 'rasterised', count: sizes.length }],
    };
  }

  handles(s: Pick<SanitizeSource, 'name' | 'detectedMime'>): boolean {
    return s.detectedMime === 'application/pdf';
  }

  async sanitize(source: SanitizeSource, sink: SanitizeSink): Promise<SanitizeOutcome> {
    await loadPdfLib();
    const bytes = await readAllLimited(await source.open(), PDF_MAX_BYTES);
    checkObjectStreams(bytes);
    if (source.policy?.pdfMode === 'strict') return this.rasterise(source, bytes, sink);
    let doc: PDFDocument;
    try {
      doc = await lib.PDFDocument.load(bytes, { updateMetadata: false, throwOnInvalidObject: true });
    } catch (err) {
      const e = err as Error;
      if (/encrypted/i.test(e.name) || /encrypted/i.test(e.message)) throw new SanitizeError('encrypted', 'encrypted PDF');
      throw new SanitizeError('malformed', `not a readable PDF: ${e.message.slice(0, 160)}`);
    }
    let result: { removed: Removed[]; loss: boolean };
    try {
      result = scrub(doc);
    } catch (err) {
      if (err instanceof SanitizeError) throw err;
      throw new SanitizeError('malformed', `PDF structure not readable: ${(err as Error).message.slice(0, 160)}`);
    }
    let out: Uint8Array;
    try {
      out = await doc.save({ useObjectStreams: false, addDefaultPage: false, updateFieldAppearances: false });
    } catch (err) {
      throw new SanitizeError('malformed', `PDF could not be rewritten: ${(err as Error).message.slice(0, 160)}`);
    }
    await sink(Readable.from([Buffer.from(out.buffer, out.byteOffset, out.byteLength)]));
    return {
      result: result.loss ? 'sanitised_with_loss' : 'sanitised',
      engine: this.engine,
      name: source.name,
      contentType: 'application/pdf',
      removed: result.removed,
    };
  }
}

function scrub(doc: PDFDocument): { removed: Removed[]; loss: boolean } {
  const removed: Removed[] = [];
  let loss = false;
  const context = doc.context;
  const lookup = (o: PDFObject | undefined): PDFObject | undefined => (o instanceof lib.PDFRef ? context.lookup(o) : o);

  // Catalog-level entries.
  const catalog = doc.catalog;
  if (catalog.has(N('OpenAction'))) {
    catalog.delete(N('OpenAction'));
    noteRemoved(removed, 'open_action');
  }
  const names = lookup(catalog.get(N('Names')));
  if (names instanceof lib.PDFDict) {
    for (const [key, kind] of [
      ['JavaScript', 'javascript'],
      ['EmbeddedFiles', 'embedded_file'],
    ] as const) {
      if (names.has(N(key))) {
        names.delete(N(key));
        noteRemoved(removed, kind, 'document');
        if (kind === 'embedded_file') loss = true;
      }
    }
  }
  const acro = lookup(catalog.get(N('AcroForm')));
  if (acro instanceof lib.PDFDict && acro.has(N('XFA'))) {
    acro.delete(N('XFA'));
    noteRemoved(removed, 'xfa');
    loss = true;
  }

  // Every object: actions, JavaScript, embedded files, attachment annotations.
  const attachmentAnnots = new Set<PDFObject>();
  for (const [ref, obj] of context.enumerateIndirectObjects()) {
    const dict = obj instanceof lib.PDFDict ? obj : obj instanceof lib.PDFStream ? obj.dict : null;
    if (!dict) continue;
    const type = nameOf(dict.get(N('Type')));
    const subtype = nameOf(dict.get(N('Subtype')));
    if (type === 'EmbeddedFile' || (obj instanceof lib.PDFStream && subtype === null && type === 'EmbeddedFile')) {
      context.delete(ref);
      continue;
    }
    if (subtype === 'FileAttachment') {
      attachmentAnnots.add(ref);
      noteRemoved(removed, 'embedded_file', 'attachment annotation');
      loss = true;
    }
    scrubDict(dict, removed, (l) => (loss ||= l), lookup);
  }
  // Annotations written inline in a page's /Annots are not indirect objects: scrub them there;
  // attachment annotations (inline or not) leave the array.
  for (const page of doc.getPages()) {
    const annots = lookup(page.node.get(N('Annots')));
    if (!(annots instanceof lib.PDFArray)) continue;
    for (let i = annots.size() - 1; i >= 0; i--) {
      const a = annots.get(i);
      if (a instanceof lib.PDFDict) {
        if (nameOf(a.get(N('Subtype'))) === 'FileAttachment') {
          attachmentAnnots.add(a);
          noteRemoved(removed, 'embedded_file', 'attachment annotation');
          loss = true;
        } else scrubDict(a, removed, (l) => (loss ||= l), lookup);
      }
      if (attachmentAnnots.has(a)) annots.remove(i);
    }
  }
  for (const ref of attachmentAnnots) if (ref instanceof lib.PDFRef) context.delete(ref);
  // Whatever nothing points at any more (the removed trees, file specifications, scripts) is not written.
  dropUnreachable(doc);
  return { removed, loss };
}

/** Deletes every indirect object not reachable from the trailer (Root, Info). */
function dropUnreachable(doc: PDFDocument): void {
  const context = doc.context;
  const seen = new Set<string>();
  const stack: PDFObject[] = [];
  const { Root, Info } = context.trailerInfo;
  for (const o of [Root, Info]) if (o) stack.push(o as PDFObject);
  while (stack.length) {
    const o = stack.pop()!;
    if (o instanceof lib.PDFRef) {
      if (seen.has(o.tag)) continue;
      seen.add(o.tag);
      const target = context.lookup(o);
      if (target) stack.push(target);
    } else if (o instanceof lib.PDFDict) {
      for (const [, v] of o.entries()) stack.push(v);
    } else if (o instanceof lib.PDFArray) {
      for (let i = 0; i < o.size(); i++) stack.push(o.get(i));
    } else if (o instanceof lib.PDFStream) {
      stack.push(o.dict);
    }
  }
  for (const [ref] of context.enumerateIndirectObjects()) if (!seen.has(ref.tag)) context.delete(ref);
}

/** Pages rendered in strict mode at most; a longer document is held for review. */
export const STRICT_MAX_PAGES = 300;
const STRICT_DPI = 150;

export interface PdfSanitizerOptions {
  /** pdftoppm (poppler-utils) for the strict mode. */
  pdftoppm?: string;
}

/** Renders pages [first, last] of `pdf` to PNGs with pdftoppm, in memory (stdin → stdout; nothing on disk). */
function renderPages(bin: string, pdf: Buffer, first: number, last: number, timeoutMs: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    // -scale-to caps the longer side of every page image: a huge page cannot become gigabytes of pixels.
    const child = spawn(
      bin,
      ['-png', '-r', String(STRICT_DPI), '-scale-to', '2400', '-f', String(first), '-l', String(last), '-'],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString().slice(0, 500)));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new SanitizeError('unsupported', `strict PDF mode needs pdftoppm (poppler-utils): ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0)
        return reject(new SanitizeError('malformed', `pages could not be rendered (${signal ?? code}): ${err.trim()}`));
      resolve(splitPngs(Buffer.concat(out)));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(pdf);
  });
}

/** Splits concatenated PNG files at the end of each IEND chunk. */
function splitPngs(all: Buffer): Buffer[] {
  const pngs: Buffer[] = [];
  let start = 0;
  for (;;) {
    const i = all.indexOf('IEND', start, 'latin1');
    if (i < 0) break;
    const end = i + 8; // 'IEND' + CRC
    pngs.push(all.subarray(start, end));
    start = end;
  }
  return pngs;
}

function nameOf(o: PDFObject | undefined): string | null {
  return o instanceof lib.PDFName ? o.decodeText() : null;
}

function stringOf(o: PDFObject | undefined): string {
  return o instanceof lib.PDFString || o instanceof lib.PDFHexString ? o.decodeText() : '';
}

/** Inline nesting deeper than this is refused: nothing below it would be looked at. */
const MAX_INLINE_DEPTH = 64;

/**
 * Removes JavaScript, additional actions and dangerous actions from one dictionary and from every
 * dictionary written inline in it, under any key and in arrays (indirect objects are each scrubbed
 * on their own). Nesting past MAX_INLINE_DEPTH fails the file rather than passing what is below.
 */
function scrubDict(
  dict: PDFDict,
  removed: Removed[],
  setLoss: (loss: boolean) => void,
  lookup: (o: PDFObject | undefined) => PDFObject | undefined,
  depth = 0,
): void {
  if (depth > MAX_INLINE_DEPTH) throw new SanitizeError('limit', `inline PDF objects nested deeper than ${MAX_INLINE_DEPTH}`);
  for (const key of ['JS', 'JavaScript']) {
    if (dict.has(N(key))) {
      dict.delete(N(key));
      noteRemoved(removed, 'javascript');
    }
  }
  if (dict.has(N('AA'))) {
    dict.delete(N('AA'));
    noteRemoved(removed, 'additional_actions');
  }
  // Associated files (PDF 2.0) point at file specifications with embedded files.
  if (dict.has(N('AF'))) {
    dict.delete(N('AF'));
    noteRemoved(removed, 'embedded_file', 'associated file');
    setLoss(true);
  }
  if (dict.has(N('EF'))) {
    dict.delete(N('EF'));
    noteRemoved(removed, 'embedded_file', 'file specification');
    setLoss(true);
  }
  // An action dictionary of a dangerous kind is emptied into a no-op; an unsafe URI loses its target.
  const s = nameOf(dict.get(N('S')));
  if (s && DANGEROUS_ACTIONS.has(s)) {
    for (const k of dict.keys()) if (k !== N('Type')) dict.delete(k);
    noteRemoved(removed, s === 'JavaScript' ? 'javascript' : 'action', s);
    if (s === 'SubmitForm' || s === 'ImportData') setLoss(true);
  } else if (s === 'URI') {
    const uri = stringOf(lookup(dict.get(N('URI'))));
    if (!SAFE_URI.test(uri.trim())) {
      dict.delete(N('URI'));
      dict.delete(N('S'));
      noteRemoved(removed, 'action', `URI ${uri.slice(0, 60)}`);
    }
  }
  // Everything held inline: /A and /Next chains, /AA-like dictionaries under other keys, form
  // fields and annotations written in arrays.
  for (const [, child] of dict.entries()) scrubInline(child, removed, setLoss, lookup, depth + 1);
}

function scrubInline(
  o: PDFObject,
  removed: Removed[],
  setLoss: (loss: boolean) => void,
  lookup: (o: PDFObject | undefined) => PDFObject | undefined,
  depth: number,
): void {
  if (o instanceof lib.PDFDict) scrubDict(o, removed, setLoss, lookup, depth);
  else if (o instanceof lib.PDFArray) {
    if (depth > MAX_INLINE_DEPTH) throw new SanitizeError('limit', `inline PDF objects nested deeper than ${MAX_INLINE_DEPTH}`);
    for (let i = 0; i < o.size(); i++) scrubInline(o.get(i), removed, setLoss, lookup, depth + 1);
  }
}

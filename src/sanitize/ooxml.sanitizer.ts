/**
 * Office Open XML 無害化 (MAL-07): docx/xlsx/pptx and their macro-enabled and template forms.
 *
 * The package is read through yauzl straight from the encrypted blob (range reads decrypt only the
 * segments needed; no plaintext on disk) and rebuilt with yazl into a new blob, part by part:
 *   - dropped: VBA projects (vbaProject.bin, vbaData.xml), ActiveX controls, embedded OLE objects and
 *     packages, external link parts, ribbon customisations, Excel 4.0 macro sheets;
 *   - relationships: every external one except web/mail hyperlinks (remote templates, OLE links,
 *     external data), and every one pointing at a dropped part; elements that referenced them
 *     (OLEObject, control, sheet entries, attachedTemplate) are removed from the XML;
 *   - fields: DDE/DDEAUTO and external INCLUDE/LINK/IMPORT fields in Word lose their field code (the
 *     shown result stays); Excel formulas calling DDE lose the formula (the cached value stays);
 *     auto-run names (Auto_Open …) go;
 *   - content types: entries of dropped parts removed, macro-enabled main types become plain, so
 *     報告.docm becomes 報告.docx and opens as an ordinary document.
 * Other parts (text, images, styles) are copied through as they are, streaming.
 *
 * Limits (MAL-05, zip bombs): entry count, total expanded size, compression ratio of large entries
 * and the size of an XML part that must be edited in memory; yauzl checks that every entry really
 * expands to its declared size. Over a limit or malformed → `failed` (the file is held for review).
 */
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import yazl from 'yazl';
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

export const OOXML_LIMITS = {
  entries: 10_000,
  totalBytes: 1024 * 1024 * 1024,
  /** An entry larger than this must not expand more than `ratio` times its compressed size. */
  ratioFloorBytes: 10 * 1024 * 1024,
  ratio: 200,
  /** Relationships in one .rels part. */
  relationships: 10_000,
  /** XML parts that are edited are read whole: larger ones make the file fail. */
  xmlPartBytes: 64 * 1024 * 1024,
};

const PLAIN_EXT: Record<string, string> = {
  docm: 'docx',
  dotm: 'dotx',
  xlsm: 'xlsx',
  xltm: 'xltx',
  pptm: 'pptx',
  potm: 'potx',
  ppsm: 'ppsx',
};
const OOXML_EXT = new Set(['docx', 'dotx', 'xlsx', 'xltx', 'pptx', 'potx', 'ppsx', ...Object.keys(PLAIN_EXT)]);

const MAIN_TYPES: Record<string, string> = {
  'application/vnd.ms-word.document.macroEnabled.main+xml':
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
  'application/vnd.ms-word.template.macroEnabledTemplate.main+xml':
    'application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml',
  'application/vnd.ms-excel.sheet.macroEnabled.main+xml':
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
  'application/vnd.ms-excel.template.macroEnabled.main+xml':
    'application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml',
  'application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml':
    'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml',
  'application/vnd.ms-powerpoint.template.macroEnabled.main+xml':
    'application/vnd.openxmlformats-officedocument.presentationml.template.main+xml',
  'application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml':
    'application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml',
};
const FILE_TYPES: Record<string, string> = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  dotx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.template',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  xltx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.template',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  potx: 'application/vnd.openxmlformats-officedocument.presentationml.template',
  ppsx: 'application/vnd.openxmlformats-officedocument.presentationml.slideshow',
};

/** Parts removed whole, with the kind reported and whether their loss is visible to the reader. */
const DROPPED_PARTS: Array<{ re: RegExp; kind: string; loss: boolean }> = [
  { re: /(^|\/)vbaProject\.bin$/i, kind: 'vba_project', loss: false },
  { re: /(^|\/)vbaData\.xml$/i, kind: 'vba_project', loss: false },
  { re: /(^|\/)_rels\/vbaProject\.bin\.rels$/i, kind: 'vba_project', loss: false },
  { re: /(^|\/)activeX\//i, kind: 'activex', loss: true },
  { re: /(^|\/)embeddings\//i, kind: 'ole_object', loss: true },
  { re: /(^|\/)externalLinks\//i, kind: 'external_link', loss: false },
  { re: /^customUI\//i, kind: 'customui', loss: false },
  { re: /(^|\/)attachedToolbars\.bin$/i, kind: 'vba_project', loss: false },
  { re: /^word\/customizations\.xml$/i, kind: 'vba_project', loss: false },
  { re: /^xl\/macrosheets\//i, kind: 'xlm_macro_sheet', loss: true },
];
/** Relationship types dropped wherever they point. */
const DROPPED_REL_TYPES =
  /\/(vbaProject|activeXControl|activeXControlBinary|oleObject|package|externalLink|externalLinkPath|attachedTemplate|xlMacrosheet|xlIntlMacrosheet|ui\/extensibility|customUI|wordVbaData|keyMapCustomizations|attachedToolbars|frame|subDocument)$/i;
const SAFE_LINK = /^(https?:|mailto:|#)/i;
const ALREADY_COMPRESSED = /\.(png|jpe?g|gif|webp|tiff?|jp2|mp3|mp4|m4a|wav|wmv|avi|mov|zip|gz|emz|wdp)$/i;

interface Rel {
  xml: string;
  id: string;
  type: string;
  target: string;
  external: boolean;
}

export class OoxmlSanitizer implements Sanitizer {
  readonly engine = 'kura-ooxml';

  handles(s: Pick<SanitizeSource, 'name' | 'detectedMime'>): boolean {
    if (!OOXML_EXT.has(extensionOf(s.name))) return false;
    const m = s.detectedMime ?? '';
    return m === 'application/zip' || /officedocument|macroenabled/i.test(m);
  }

  async sanitize(source: SanitizeSource, sink: SanitizeSink): Promise<SanitizeOutcome> {
    const zip = await openZip(source);
    try {
      return await this.rebuild(source, zip, sink);
    } finally {
      zip.close();
    }
  }

  private async rebuild(source: SanitizeSource, zip: ZipFile, sink: SanitizeSink): Promise<SanitizeOutcome> {
    const entries = await listEntries(zip);
    const removed: Removed[] = [];
    let loss = false;
    const names = new Set(entries.map((e) => e.fileName));
    if (!names.has('[Content_Types].xml'))
      throw new SanitizeError('malformed', 'no [Content_Types].xml: not an Office Open XML package');

    // 1. Which parts go.
    const dropped = new Set<string>();
    for (const e of entries) {
      const rule = DROPPED_PARTS.find((r) => r.re.test(e.fileName));
      if (!rule) continue;
      dropped.add(e.fileName);
      if (!e.fileName.endsWith('.rels')) noteRemoved(removed, rule.kind, e.fileName);
      loss ||= rule.loss;
    }
    // 2. Relationships: drop external ones and those into dropped parts; remember the ids per source part.
    const relsOut = new Map<string, Buffer>();
    const droppedIds = new Map<string, Set<string>>();
    for (const e of entries) {
      if (!e.fileName.endsWith('.rels') || dropped.has(e.fileName)) continue;
      const xml = (await readEntry(zip, e, OOXML_LIMITS.xmlPartBytes)).toString('utf8');
      const owner = relsOwner(e.fileName);
      const ids = new Set<string>();
      let count = 0;
      // One pass over the relationships; each is kept, rewritten or dropped.
      const out = xml.replace(REL_RE, (relXml) => {
        if (++count > OOXML_LIMITS.relationships) throw new SanitizeError('limit', `${e.fileName} has too many relationships`);
        const rel = relOf(relXml);
        const targetPart = rel.external ? null : resolveTarget(owner, rel.target);
        const hyperlink = /\/hyperlink$/i.test(rel.type);
        if (rel.external && hyperlink && !SAFE_LINK.test(rel.target.trim())) {
          noteRemoved(removed, 'external_link', shortTarget(rel.target));
          return relXml.replace(/Target="[^"]*"/, 'Target="#"');
        }
        if (!(
          DROPPED_REL_TYPES.test(rel.type) ||
          (rel.external && !hyperlink) ||
          (targetPart !== null && dropped.has(targetPart))
        ))
          return relXml;
        ids.add(rel.id);
        if (rel.external)
          noteRemoved(removed, 'external_relationship', `${rel.type.split('/').pop()}: ${shortTarget(rel.target)}`);
        if (targetPart && !dropped.has(targetPart) && names.has(targetPart) && DROPPED_REL_TYPES.test(rel.type)) {
          dropped.add(targetPart);
          noteRemoved(removed, kindOfRelType(rel.type), targetPart);
          loss = true;
        }
        return '';
      });
      // Only changed relationship parts are kept in memory; the others are copied through.
      if (out !== xml) relsOut.set(e.fileName, Buffer.from(out, 'utf8'));
      if (ids.size && owner !== null) droppedIds.set(owner, ids);
    }
    // 3. Content types.
    const ctEntry = entries.find((e) => e.fileName === '[Content_Types].xml')!;
    const contentTypes = fixContentTypes((await readEntry(zip, ctEntry, OOXML_LIMITS.xmlPartBytes)).toString('utf8'), dropped);
    if (contentTypes.converted) noteRemoved(removed, 'macro_enabled_type', contentTypes.converted);

    // 4. Write the package in the original order.
    const out = new yazl.ZipFile();
    const body = new PassThrough();
    out.outputStream.pipe(body);
    out.outputStream.on('error', (err: Error) => body.destroy(err));
    const stored = sink(body);
    stored.catch(() => {});
    // If storing fails (e.g. the output outgrows its limit) yazl stops reading: stop waiting for it.
    const sinkFailed = stored.then(
      () => new Promise<never>(() => {}),
      (err: unknown) => Promise.reject(err instanceof Error ? err : new Error(String(err))),
    );
    sinkFailed.catch(() => {});
    try {
      for (const e of entries) {
        if (dropped.has(e.fileName) || e.fileName.endsWith('/')) continue;
        // Parts stored uncompressed, and media that really is compressed already (it barely shrank in
        // the source), are not deflated again; anything that compressed well is, whatever its name.
        const incompressible = ALREADY_COMPRESSED.test(e.fileName) && e.uncompressedSize <= 1.2 * e.compressedSize;
        const opts = { mtime: e.getLastModDate(), compress: e.compressionMethod !== 0 && !incompressible };
        if (e.fileName === '[Content_Types].xml') out.addBuffer(Buffer.from(contentTypes.xml, 'utf8'), e.fileName, opts);
        else if (relsOut.has(e.fileName)) out.addBuffer(relsOut.get(e.fileName)!, e.fileName, opts);
        else if (/\.xml$/i.test(e.fileName) && needsEdit(e.fileName)) {
          const xml = (await readEntry(zip, e, OOXML_LIMITS.xmlPartBytes)).toString('utf8');
          const edited = editPart(e.fileName, xml, droppedIds.get(e.fileName) ?? new Set(), removed);
          loss ||= edited.loss;
          out.addBuffer(Buffer.from(edited.xml, 'utf8'), e.fileName, opts);
        } else {
          // Streamed through; the next entry is opened only once yazl has taken this one.
          const stream = await openEntry(zip, e);
          const done = new Promise<void>((resolve, reject) => {
            stream.once('end', resolve);
            stream.once('error', reject);
          });
          out.addReadStream(stream, e.fileName, opts);
          await Promise.race([done, sinkFailed]);
        }
      }
      out.end();
      await stored;
    } catch (err) {
      body.destroy(err as Error);
      await stored.catch(() => {});
      throw err;
    }
    const ext = extensionOf(source.name);
    const plainExt = PLAIN_EXT[ext] ?? ext;
    const name = plainExt === ext ? source.name : `${source.name.slice(0, -ext.length)}${plainExt}`;
    return {
      result: loss ? 'sanitised_with_loss' : 'sanitised',
      engine: this.engine,
      name,
      contentType: FILE_TYPES[plainExt] ?? 'application/octet-stream',
      removed,
    };
  }
}

// ---- zip access ----

class BlobReader extends yauzl.RandomAccessReader {
  constructor(private readonly source: SanitizeSource) {
    super();
  }
  override _readStreamForRange(start: number, end: number): Readable {
    const out = new PassThrough();
    if (end <= start) {
      out.end();
      return out;
    }
    this.source.openRange(start, end - 1).then(
      (s) => {
        s.on('error', (err) => out.destroy(err));
        s.pipe(out);
      },
      (err: Error) => out.destroy(err),
    );
    return out;
  }
}

function openZip(source: SanitizeSource): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      new BlobReader(source),
      source.size,
      { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false, decodeStrings: true },
      (err, zip) => (err ? reject(new SanitizeError('malformed', `not a readable zip: ${err.message}`)) : resolve(zip)),
    );
  });
}

function listEntries(zip: ZipFile): Promise<Entry[]> {
  if (zip.entryCount > OOXML_LIMITS.entries) return Promise.reject(new SanitizeError('limit', `${zip.entryCount} entries`));
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    let total = 0;
    zip.on('entry', (e: Entry) => {
      total += e.uncompressedSize;
      if (total > OOXML_LIMITS.totalBytes)
        return reject(new SanitizeError('limit', `expands to more than ${OOXML_LIMITS.totalBytes} bytes`));
      if (
        e.uncompressedSize > OOXML_LIMITS.ratioFloorBytes &&
        e.uncompressedSize > OOXML_LIMITS.ratio * Math.max(1, e.compressedSize)
      )
        return reject(
          new SanitizeError(
            'limit',
            `entry ${e.fileName} expands ${Math.round(e.uncompressedSize / Math.max(1, e.compressedSize))}×`,
          ),
        );
      if (e.fileName.startsWith('/') || e.fileName.split('/').includes('..'))
        return reject(new SanitizeError('malformed', 'entry name leaves the package'));
      if (e.isEncrypted()) return reject(new SanitizeError('encrypted', 'encrypted zip entry'));
      entries.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (err: Error) => reject(new SanitizeError('malformed', err.message)));
    zip.readEntry();
  });
}

function openEntry(zip: ZipFile, e: Entry): Promise<Readable> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(e, (err, s) => (err ? reject(new SanitizeError('malformed', err.message)) : resolve(s))),
  );
}

async function readEntry(zip: ZipFile, e: Entry, limit: number): Promise<Buffer> {
  if (e.uncompressedSize > limit) throw new SanitizeError('limit', `${e.fileName} is larger than ${limit} bytes`);
  try {
    return await readAllLimited(await openEntry(zip, e), limit);
  } catch (err) {
    if (err instanceof SanitizeError) throw err;
    throw new SanitizeError('malformed', `${e.fileName}: ${(err as Error).message}`);
  }
}

// ---- relationships and content types ----

/** The part a .rels file describes ('' for the package's own _rels/.rels). */
function relsOwner(relsName: string): string | null {
  const m = /^(.*?)_rels\/(.*)\.rels$/.exec(relsName);
  if (!m) return null;
  return `${m[1]}${m[2]}`;
}

function resolveTarget(owner: string | null, target: string): string {
  const base = owner ? posix.dirname(owner) : '';
  const t = decodeURIComponent(target.split('#')[0]!);
  return (t.startsWith('/') ? t.slice(1) : posix.normalize(posix.join(base, t))).replace(/^\.\//, '');
}

const attr = (xml: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(xml)?.[1] ?? '';

/**
 * Every pattern over part XML is linear: no quantifier can run across a tag boundary (`[^<>]`), so a
 * hostile part (an unclosed tag repeated a million times) costs one pass, not one pass per tag.
 */
const REL_RE = /<Relationship\b[^<>]*\/>|<Relationship\b[^<>]*>[^<]*<\/Relationship>/g;

function relOf(xml: string): Rel {
  return {
    xml,
    id: attr(xml, 'Id'),
    type: attr(xml, 'Type'),
    target: unescapeXml(attr(xml, 'Target')),
    external: /\bTargetMode="External"/i.test(xml),
  };
}

function kindOfRelType(type: string): string {
  if (/vbaProject|wordVbaData|attachedToolbars|keyMap/i.test(type)) return 'vba_project';
  if (/activeX/i.test(type)) return 'activex';
  if (/oleObject|package/i.test(type)) return 'ole_object';
  if (/externalLink/i.test(type)) return 'external_link';
  if (/Macrosheet/i.test(type)) return 'xlm_macro_sheet';
  return 'external_relationship';
}

function fixContentTypes(xml: string, dropped: Set<string>): { xml: string; converted: string | null } {
  let converted: string | null = null;
  let out = xml.replace(/<Override\b[^<>]*\/>/g, (tag) => {
    const part = attr(tag, 'PartName').replace(/^\//, '');
    if (dropped.has(decodeURIComponent(part))) return '';
    const type = attr(tag, 'ContentType');
    const plain = MAIN_TYPES[type];
    if (plain) {
      converted = type;
      return tag.replace(type, plain);
    }
    return tag;
  });
  out = out.replace(/<Default\b[^<>]*\/>/g, (tag) =>
    /ContentType="application\/vnd\.ms-office\.(vbaProject|activeX)/i.test(tag) ? '' : tag,
  );
  return { xml: out, converted };
}

// ---- part XML ----

function needsEdit(name: string): boolean {
  return /^(word\/(document|header\d*|footer\d*|footnotes|endnotes|settings|glossary\/document)\.xml|xl\/workbook\.xml|xl\/worksheets\/[^/]+\.xml|xl\/chartsheets\/[^/]+\.xml|ppt\/slides\/[^/]+\.xml|ppt\/slideLayouts\/[^/]+\.xml|ppt\/slideMasters\/[^/]+\.xml)$/i.test(
    name,
  );
}

const EXTERNAL_FIELD = /^\s*(DDE|DDEAUTO|INCLUDETEXT|INCLUDEPICTURE|INCLUDE|IMPORT|LINK)\b/i;

function editPart(name: string, xml: string, ids: Set<string>, removed: Removed[]): { xml: string; loss: boolean } {
  let loss = false;
  let out = xml;
  // Elements that referenced a dropped relationship (OLE objects, controls, macro sheets, remote templates).
  if (ids.size) {
    out = removeElements(
      out,
      (tag) => {
        const ref = /\br:(?:id|link)="([^"]*)"/.exec(tag)?.[1];
        return ref !== undefined && ids.has(ref);
      },
      (local) => {
        if (/^(OLEObject|oleObj|oleObject|control|sheet|attachedTemplate)$/.test(local)) loss = true;
      },
    );
  }
  if (name.startsWith('word/')) {
    // Complex fields: the code between begin and separate/end, possibly split over many runs.
    const marks = [...out.matchAll(/<w:fldChar\b[^<>]*\/>/g)].map((m) => ({
      start: m.index,
      end: m.index + m[0].length,
      type: attr(m[0], 'w:fldCharType'),
    }));
    const parts: string[] = [];
    let pos = 0;
    for (let i = 0; i < marks.length; i++) {
      if (marks[i]!.type !== 'begin') continue;
      const close = marks.slice(i + 1).find((x) => x.type === 'separate' || x.type === 'end');
      if (!close) break;
      const mid = out.slice(marks[i]!.end, close.start);
      const code = [...mid.matchAll(/<w:instrText\b[^<>]*>([^<]*)<\/w:instrText>/g)].map((m) => unescapeXml(m[1]!)).join('');
      const m = EXTERNAL_FIELD.exec(code.replace(/\s+/g, ' '));
      if (!m) continue;
      noteRemoved(removed, /^DDE/i.test(m[1]!) ? 'dde_field' : 'external_field', m[1]!.toUpperCase());
      loss = true;
      parts.push(out.slice(pos, marks[i]!.end), mid.replace(/(<w:instrText\b[^<>]*>)[^<]*(<\/w:instrText>)/g, '$1$2'));
      pos = close.start;
    }
    out = parts.join('') + out.slice(pos);
    // Simple fields: unwrap the field, keep what it shows.
    out = unwrapElements(out, 'w:fldSimple', (tag) => {
      const m = EXTERNAL_FIELD.exec(unescapeXml(attr(tag, 'w:instr')));
      if (!m) return false;
      noteRemoved(removed, /^DDE/i.test(m[1]!) ? 'dde_field' : 'external_field', m[1]!.toUpperCase());
      loss = true;
      return true;
    });
  }
  if (name.startsWith('xl/')) {
    out = out.replace(/<f\b[^<>]*>([^<]*)<\/f>/g, (all, formula: string) => {
      const f = unescapeXml(formula);
      if (/\bDDE\s*\(/i.test(f) || /[A-Za-z0-9_.]+\|\s*'?[^!]*'?\s*!/.test(f)) {
        noteRemoved(removed, 'dde_field', 'formula');
        loss = true;
        return '';
      }
      return all;
    });
    out = out.replace(/<definedName\b[^<>]*>[^<]*<\/definedName>/g, (all) => {
      if (!/\bname="(?:_xlnm\.)?Auto_(?:Open|Close|Activate|Deactivate)/i.test(all)) return all;
      noteRemoved(removed, 'auto_macro_name');
      return '';
    });
  }
  return { xml: out, loss };
}

/** Removes each element whose start tag matches (with its content up to the matching end tag, not nested). */
function removeElements(xml: string, matches: (tag: string) => boolean, onRemove: (localName: string) => void): string {
  const parts: string[] = [];
  let pos = 0;
  for (const m of xml.matchAll(/<([\w]+:)?(\w+)\b[^<>]*>/g)) {
    if (m.index < pos || !matches(m[0])) continue;
    let end = m.index + m[0].length;
    if (!m[0].endsWith('/>')) {
      const closeTag = `</${m[1] ?? ''}${m[2]}>`;
      const close = xml.indexOf(closeTag, end);
      if (close < 0) continue;
      end = close + closeTag.length;
    }
    onRemove(m[2]!);
    parts.push(xml.slice(pos, m.index));
    pos = end;
  }
  return parts.join('') + xml.slice(pos);
}

/** Replaces `<tag …>inner</tag>` by `inner` where the start tag matches. */
function unwrapElements(xml: string, tag: string, matches: (startTag: string) => boolean): string {
  const parts: string[] = [];
  let pos = 0;
  const closeTag = `</${tag}>`;
  for (const m of xml.matchAll(new RegExp(`<${tag}\\b[^<>]*>`, 'g'))) {
    if (m.index < pos || m[0].endsWith('/>') || !matches(m[0])) continue;
    const close = xml.indexOf(closeTag, m.index + m[0].length);
    if (close < 0) continue;
    parts.push(xml.slice(pos, m.index), xml.slice(m.index + m[0].length, close));
    pos = close + closeTag.length;
  }
  return parts.join('') + xml.slice(pos);
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!);
}

function shortTarget(t: string): string {
  return t.length > 120 ? `${t.slice(0, 117)}...` : t;
}

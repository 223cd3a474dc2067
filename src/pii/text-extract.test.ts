import { Readable } from 'node:stream';
import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { zipOf } from '../../test/support/office-fixtures.js';
import { findMyNumbers } from './my-number.js';
import { extractText, xmlText } from './text-extract.js';

const src = (name: string, data: Buffer, detectedMime: string | null) => ({
  name,
  detectedMime,
  open: async () => Readable.from([data]),
});
const MY = '123456789018'; // the well-known valid sample number

describe('text extraction for personal-data checks (PII-01)', () => {
  it('joins Word runs of one paragraph, so a number split over runs is still found [PII-01]', async () => {
    const docx = await zipOf({
      '[Content_Types].xml': '<Types/>',
      'word/document.xml':
        '<w:document xmlns:w="w"><w:body><w:p><w:r><w:t xml:space="preserve">個人番号 1234 </w:t></w:r><w:r><w:t xml:space="preserve">5678 9018</w:t></w:r></w:p><w:p><w:r><w:t>住所 &amp; 氏名</w:t></w:r></w:p></w:body></w:document>',
    });
    const text = await extractText(
      src('届出.docx', docx, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'),
    );
    expect(text).toContain('住所 & 氏名');
    expect(findMyNumbers(text!)).toHaveLength(1);
  });

  it('reads Excel shared strings and cell values, PowerPoint text, Shift_JIS CSV and PDF text [PII-01]', async () => {
    const xlsx = await zipOf({
      '[Content_Types].xml': '<Types/>',
      'xl/sharedStrings.xml': '<sst><si><t>番号</t></si></sst>',
      'xl/worksheets/sheet1.xml': `<worksheet><sheetData><row><c t="s"><v>0</v></c><c><v>${MY}</v></c></row></sheetData></worksheet>`,
    });
    expect(findMyNumbers((await extractText(src('名簿.xlsx', xlsx, 'application/zip')))!)).toHaveLength(1);
    const pptx = await zipOf({
      '[Content_Types].xml': '<Types/>',
      'ppt/slides/slide1.xml': `<p:sld><a:p><a:t>ID ${MY}</a:t></a:p></p:sld>`,
    });
    expect(findMyNumbers((await extractText(src('説明.pptx', pptx, 'application/zip')))!)).toHaveLength(1);
    const sjis = Buffer.concat([Buffer.from([0x94, 0xd4, 0x8d, 0x86, 0x2c]), Buffer.from(MY)]); // 番号,1234…
    const csv = await extractText(src('一覧.csv', sjis, null));
    expect(csv).toBe(`番号,${MY}`);
    const doc = await PDFDocument.create();
    doc.addPage([300, 100]).drawText(`No. ${MY}`, { x: 10, y: 50, size: 12 });
    const pdfText = await extractText(src('通知.pdf', Buffer.from(await doc.save()), 'application/pdf'));
    expect(findMyNumbers(pdfText!)).toHaveLength(1);
    expect(await extractText(src('写真.jpg', Buffer.from('x'), 'image/jpeg'))).toBeNull();
  });

  it('keeps text of one element and drops markup [PII-01]', () => {
    expect(xmlText('<a:p><a:t>a&lt;b</a:t></a:p><a:p><a:t>&#x5e02;</a:t></a:p>')).toBe('a<b\n市\n');
  });
});

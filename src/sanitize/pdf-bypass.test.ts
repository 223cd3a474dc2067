/**
 * PDF 無害化 against crafted structure (MAL-07): active content hidden where a sanitiser that looks
 * only at known keys, or keeps what its parser could not read, would pass it on.
 */
import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { PDFDocument } from 'pdf-lib';
import { checkObjectStreams, PdfSanitizer } from './pdf.sanitizer.js';
import { SanitizeError, type SanitizeOutcome } from './sanitizer.js';
import { runEngine, sourceOf } from '../../test/support/sanitize.js';

async function run(data: Buffer): Promise<{ outcome: SanitizeOutcome; out: string }> {
  const { outcome, out } = await runEngine(new PdfSanitizer(), sourceOf('a.pdf', data, 'application/pdf'));
  return { outcome, out: out.toString('latin1') };
}

/** A PDF from object bodies (1-based numbering) with a correct cross-reference table. */
function rawPdf(objs: string[]): Buffer {
  let s = '%PDF-1.7\n%\xe2\xe3\xcf\xd3\n';
  const offs: number[] = [];
  objs.forEach((o, i) => {
    offs.push(Buffer.byteLength(s, 'latin1'));
    s += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const x = Buffer.byteLength(s, 'latin1');
  s += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const o of offs) s += `${String(o).padStart(10, '0')} 00000 n \n`;
  s += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${x}\n%%EOF\n`;
  return Buffer.from(s, 'latin1');
}

const page = (extra = '') => `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Annots [4 0 R] ${extra}>>`;

describe('PDF 無害化 against crafted structure [MAL-07]', () => {
  it('removes JavaScript at the end of a long inline /Next chain', async () => {
    let action = '<< /S /JavaScript /JS (app.alert\\("pwned"\\)) >>';
    for (let i = 0; i < 10; i++) action = `<< /S /URI /URI (https://example.com/${i}) /Next ${action} >>`;
    const { outcome, out } = await run(
      rawPdf([
        '<< /Type /Catalog /Pages 2 0 R >>',
        '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        page(),
        `<< /Type /Annot /Subtype /Link /Rect [0 0 200 200] /A ${action} >>`,
      ]),
    );
    expect(out).not.toContain('app.alert');
    expect(out).not.toContain('/JavaScript');
    expect(outcome.removed.map((r) => r.kind)).toContain('javascript');
  });

  it('removes actions written inline under any key, e.g. a form field in the AcroForm array', async () => {
    const { outcome, out } = await run(
      rawPdf([
        '<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [ << /T (calc) /FT /Tx /AA << /C << /S /JavaScript /JS (app.alert\\("calc"\\)) >> >> /Kids [4 0 R] >> ] >> >>',
        '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        page(),
        '<< /Type /Annot /Subtype /Widget /Rect [0 0 100 20] /P 3 0 R >>',
      ]),
    );
    expect(out).not.toContain('app.alert');
    expect(outcome.removed.map((r) => r.kind)).toContain('additional_actions');
  });

  it('fails rather than pass an object its parser could not read (it would be written back as it was)', async () => {
    await expect(
      run(
        rawPdf([
          '<< /Type /Catalog /Pages 2 0 R >>',
          '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
          page(),
          '<< /Type /Annot /Subtype /Link /Rect [0 0 200 200] /A << /S /JavaScript /JS (app.alert\\("pwned"\\)) >> /Junk bogus >>',
        ]),
      ),
    ).rejects.toBeInstanceOf(SanitizeError);
  });

  it('fails rather than pass what lies below nesting deeper than it looks', async () => {
    let deep = '<< /S /JavaScript /JS (app.alert\\("deep"\\)) >>';
    for (let i = 0; i < 70; i++) deep = `[ ${deep} ]`;
    await expect(
      run(
        rawPdf([
          '<< /Type /Catalog /Pages 2 0 R >>',
          '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
          page(),
          `<< /Type /Annot /Subtype /Link /Rect [0 0 200 200] /Stuff ${deep} >>`,
        ]),
      ),
    ).rejects.toMatchObject({ code: 'limit' });
  });

  it('refuses object streams that expand past the bound before its parser inflates them, however the name is written', async () => {
    const filler = deflateSync(Buffer.concat([Buffer.from('10 0 '), Buffer.alloc(2 * 1024 * 1024, 0x20)]));
    const objStm = (typeName: string, filter: string) =>
      Buffer.concat([
        Buffer.from(
          `3 0 obj\n<< /Type /${typeName} /N 1 /First 5 /Filter ${filter} /Length ${filler.length} >>\nstream\n`,
          'latin1',
        ),
        filler,
        Buffer.from('\nendstream\nendobj\n'),
      ]);
    const MiB = 1024 * 1024;
    expect(() => checkObjectStreams(objStm('ObjStm', '/FlateDecode'), MiB)).toThrow(SanitizeError);
    expect(() => checkObjectStreams(objStm('Obj#53tm', '/Fl'), MiB)).toThrow(/bound/);
    expect(() => checkObjectStreams(objStm('ObjStm', '/FlateDecode'), 4 * MiB)).not.toThrow();
    // Filters whose output cannot be bounded here, or a chain of them, are refused.
    expect(() => checkObjectStreams(objStm('ObjStm', '/LZWDecode'), 4 * MiB)).toThrow(/filter/);
    expect(() => checkObjectStreams(objStm('ObjStm', '[/FlateDecode /FlateDecode]'), 4 * MiB)).toThrow(/filter/);
    // An ordinary PDF with object streams passes.
    const doc = await PDFDocument.create();
    for (let i = 0; i < 20; i++) doc.addPage([100, 100]).drawText(`page ${i}`);
    const normal = Buffer.from(await doc.save({ useObjectStreams: true }));
    expect(normal.toString('latin1')).toContain('/ObjStm');
    expect(() => checkObjectStreams(normal)).not.toThrow();
    expect((await run(normal)).outcome.result).toBe('sanitised');
  });
});

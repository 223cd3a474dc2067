import { describe, expect, it } from 'vitest';
import { myNumberCheckDigit } from '../pii/my-number.js';
import { countMatches, MAX_MATCHES, scanText, textExtractable } from './pii-scan.js';

const MY = '123456789018';

describe('personal-data scan of extracted text (PII-02)', () => {
  it('counts My Number hits and tenant pattern hits by kind, never returning the text [PII-02]', () => {
    const other = `9876543210${'9'}`;
    const text = `番号 ${MY}\n番号 ${other}${myNumberCheckDigit(other)}\n職員番号 A-1234 / A-9999`;
    const r = scanText(text, [
      { name: '職員番号', regex: 'A-\\d{4}' },
      { name: 'なし', regex: 'Z-\\d{4}' },
    ]);
    expect(r).toEqual({
      hits: [
        { kind: 'my_number', count: 2 },
        { kind: 'pattern:職員番号', count: 2 },
      ],
      timedOut: [],
    });
    expect(JSON.stringify(r)).not.toContain('1234');
  });

  it('matches patterns on NFKC text, so full-width digits count [PII-02]', () => {
    expect(scanText('住民票コード：１２３４５６７８９０１', [{ name: 'c', regex: '\\d{11}' }]).hits).toEqual([
      { kind: 'pattern:c', count: 1 },
    ]);
  });

  it('stops a catastrophically backtracking pattern at its time limit and reports it [PII-02]', () => {
    const started = Date.now();
    const r = scanText(`${'a'.repeat(40)}b ${MY}`, [{ name: 'evil', regex: '(a+)+$' }], 200);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r).toEqual({ hits: [{ kind: 'my_number', count: 1 }], timedOut: ['evil'] });
  });

  it('spends at most its budget on all patterns together [PII-02]', () => {
    const evil = ['e1', 'e2', 'e3'].map((name) => ({ name, regex: '(a+)+$' }));
    const started = Date.now();
    const r = scanText(`${'a'.repeat(40)}b`, evil, 400, 400);
    // Without the budget this would take 1,200 ms.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(r.timedOut).toEqual(['e1', 'e2', 'e3']);
    expect(scanText('b', [{ name: 'ok', regex: 'b' }], 300, 0).timedOut).toEqual(['ok']);
  });

  it('caps the matches it counts [PII-02]', () => {
    expect(countMatches('x'.repeat(MAX_MATCHES + 50), 'x')).toBe(MAX_MATCHES);
  });

  it('reads text only from the formats the extractor handles [PII-02]', () => {
    expect(textExtractable('名簿.csv', null)).toBe(true);
    expect(textExtractable('名簿.csv', 'application/zip')).toBe(false);
    expect(textExtractable('申請書.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document')).toBe(true);
    expect(textExtractable('通知.pdf', 'application/pdf')).toBe(true);
    expect(textExtractable('写真.png', 'image/png')).toBe(false);
    expect(textExtractable('program.js', null)).toBe(false);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkName, keepBothName, MAX_NAME_BYTES, nameKey } from './names.js';

describe('file names', () => {
  it('refuses separators, dot names, control and bidi characters, surrounding spaces and over-long names', () => {
    for (const [name, reason] of [
      ['', 'empty'],
      ['a/b', 'separator'],
      ['a\\b', 'separator'],
      ['.', 'dot_name'],
      ['..', 'dot_name'],
      ['a\u0000b', 'control_character'],
      ['a\nb', 'control_character'],
      ['a\u0085b', 'control_character'],
      ['invoice\u202Efdp.exe', 'control_character'],
      [' lead', 'surrounding_space'],
      ['あ'.repeat(86), 'too_long'],
    ] as const) {
      expect(checkName(name), JSON.stringify(name)).toEqual({ ok: false, reason });
    }
    expect(checkName('あ'.repeat(85))).toEqual({ ok: true, name: 'あ'.repeat(85) });
    expect(checkName('..hidden')).toEqual({ ok: true, name: '..hidden' });
  });

  it('normalises to NFC and compares case-insensitively', () => {
    expect(checkName('が'.normalize('NFD'))).toEqual({ ok: true, name: 'が' });
    expect(nameKey('Report.DOCX')).toBe(nameKey('report.docx'));
    expect(nameKey('ガ'.normalize('NFD'))).toBe(nameKey('ガ'));
  });

  it('picks the first free "(n)" for keep-both, keeping the extension and the byte limit', () => {
    const taken = new Set(['報告書.docx', '報告書 (2).docx'].map(nameKey));
    expect(keepBothName('報告書.docx', (k) => taken.has(k))).toBe('報告書 (3).docx');
    expect(keepBothName('README', () => false)).toBe('README (2)');
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 120 }), (s) => {
        const r = checkName(s);
        if (!r.ok) return;
        const both = keepBothName(r.name, () => false);
        expect(Buffer.byteLength(both)).toBeLessThanOrEqual(MAX_NAME_BYTES);
        expect(checkName(both).ok || /\s$/.test(both)).toBe(true);
      }),
    );
  });
});

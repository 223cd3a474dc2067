import { describe, expect, it } from 'vitest';
import { findMyNumbers, isValidMyNumber, myNumberCheckDigit } from './my-number.js';

/** A valid number from 11 digits (the check digit appended). */
const valid = (first11: string) => `${first11}${myNumberCheckDigit(first11)}`;

describe('My Number detection (PII-01)', () => {
  it('computes the official check digit', () => {
    // Worked example: 1 2 3 4 5 6 7 8 9 0 1 → Σ P×Q = 212, 212 mod 11 = 3 → 11 − 3 = 8 (the
    // well-known sample number 123456789018); r ≤ 1 gives 0.
    expect(myNumberCheckDigit('12345678901')).toBe(8);
    expect(myNumberCheckDigit('00000000000')).toBe(0);
    expect(myNumberCheckDigit('00000000001')).toBe(9); // P1 = 1 × Q1 = 2 → r = 2 → 9
    expect(myNumberCheckDigit('00000000006')).toBe(0); // P1 = 6 × Q1 = 2 = 12 → r = 1 → 0
    expect(myNumberCheckDigit('10000000000')).toBe(5); // P11 = 1 × Q11 = 6 → r = 6 → 5
    expect(isValidMyNumber('123456789018')).toBe(true);
    expect(isValidMyNumber('123456789012')).toBe(false);
    expect(isValidMyNumber('12345678901')).toBe(false);
  });

  it('finds valid numbers written plainly, grouped, or in full-width digits, and masks them [PII-01]', () => {
    const n = valid('98765432109');
    const text = `氏名 山田太郎 個人番号 ${n} / ${n.slice(0, 4)}-${n.slice(4, 8)}-${n.slice(8)} / ${[...n].map((d) => String.fromCharCode(0xff10 + Number(d))).join('')}`;
    const hits = findMyNumbers(text);
    expect(hits).toHaveLength(3);
    expect(hits.every((h) => h.masked === `********${n.slice(8)}`)).toBe(true);
  });

  it('finds them grouped with the dashes and minus signs Japanese input produces [PII-01]', () => {
    const n = valid('98765432109');
    const [a, b, c] = [n.slice(0, 4), n.slice(4, 8), n.slice(8)];
    for (const sep of ['\u2212', '\u2013', '\u2014', '\u2010', '\u2015', 'ー', '－', '\u3000']) {
      expect(findMyNumbers(`番号：${a}${sep}${b}${sep}${c}`), JSON.stringify(sep)).toHaveLength(1);
    }
    // A tab parts cells: a number in the cell before is not part of it.
    expect(findMyNumbers(`0\t${n}`)).toHaveLength(1);
  });

  it('ignores wrong check digits and 12-digit stretches inside longer digit runs [PII-01]', () => {
    const n = valid('11122233344');
    const wrong = `${n.slice(0, 11)}${(Number(n[11]) + 1) % 10}`;
    expect(findMyNumbers(`番号 ${wrong}`)).toEqual([]);
    expect(findMyNumbers(`口座 9${n}`)).toEqual([]);
    expect(findMyNumbers(`${n}7 注文番号`)).toEqual([]);
    expect(findMyNumbers(`カード 4${n.slice(0, 3)}-${n.slice(3, 7)}-${n.slice(7, 11)}-${n[11]}000`)).toEqual([]);
    expect(findMyNumbers(`電話 03-${n.slice(0, 4)}-${n.slice(4, 8)}-${n.slice(8)}`)).toEqual([]);
    // Mixed separators are not the 4-4-4 grouping.
    expect(findMyNumbers(`${n.slice(0, 4)} ${n.slice(4, 8)}-${n.slice(8)}`)).toEqual([]);
    expect(findMyNumbers(`tel:${n}`)).toHaveLength(1);
  });
});

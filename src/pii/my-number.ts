/**
 * My Number (個人番号) detection (PII-01): 12 digits whose last digit is the check digit of the
 * official formula (行政手続における特定の個人を識別するための番号の利用等に関する法律施行令 第8条):
 *
 *   P_n = the n-th digit counted from the right, excluding the check digit (n = 1 … 11)
 *   Q_n = n + 1 (1 ≤ n ≤ 6), n − 5 (7 ≤ n ≤ 11)
 *   r   = Σ P_n × Q_n mod 11;  check digit = 0 if r ≤ 1, else 11 − r
 *
 * Found in text as 12 digits, optionally grouped 4-4-4 by a space or hyphen, full-width digits
 * included, and never inside a longer run of digits (a phone number, an account number, a card
 * number), which is where most false hits would come from.
 */

/** The check digit for the first 11 digits. */
export function myNumberCheckDigit(first11: string): number {
  if (!/^\d{11}$/.test(first11)) throw new RangeError('11 digits expected');
  let sum = 0;
  for (let n = 1; n <= 11; n++) {
    const p = Number(first11[11 - n]);
    const q = n <= 6 ? n + 1 : n - 5;
    sum += p * q;
  }
  const r = sum % 11;
  return r <= 1 ? 0 : 11 - r;
}

export function isValidMyNumber(digits: string): boolean {
  return /^\d{12}$/.test(digits) && myNumberCheckDigit(digits.slice(0, 11)) === Number(digits[11]);
}

const DIGIT = '[0-9]';
/**
 * One optional separator between the groups of four: space, hyphen-minus and the dashes and minus
 * signs Japanese input produces (‐ ‑ ‒ – — ― − ー; full-width ones are NFKC-folded). Not a tab: it
 * parts spreadsheet cells, and a number in the next cell must not look like part of this one.
 * Both gaps use the same one (mixed ones are not the 4-4-4 grouping).
 */
const SEP = '[ \\-\\u2010-\\u2015\\u2212ー]?';
// Not preceded or followed by another digit (optionally across one separator): no hits inside longer runs.
const CANDIDATE = new RegExp(`(?<!${DIGIT}${SEP})(${DIGIT}{4})(${SEP})(${DIGIT}{4})\\2(${DIGIT}{4})(?!${SEP}${DIGIT})`, 'g');

export interface MyNumberHit {
  /** Position in the (NFKC-normalised) text. */
  index: number;
  /** Only the last four digits, for reports and audit events (never the whole number). */
  masked: string;
}

/** Every valid My Number in `text` (full-width digits normalised first). */
export function findMyNumbers(text: string): MyNumberHit[] {
  const normalised = text.normalize('NFKC');
  const hits: MyNumberHit[] = [];
  for (const m of normalised.matchAll(CANDIDATE)) {
    const digits = `${m[1]}${m[3]}${m[4]}`;
    if (isValidMyNumber(digits)) hits.push({ index: m.index, masked: `********${digits.slice(8)}` });
  }
  return hits;
}

/**
 * CSV for people who open it in Excel: UTF-8 with a BOM (Japanese shows correctly), CRLF rows, and
 * cells a spreadsheet would run as a formula (=, +, -, @, tab, CR) prefixed with an apostrophe and
 * quoted, so an exported value can never execute (CSV injection).
 */
const FORMULA = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | null | undefined): string {
  const c = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(c) || FORMULA.test(c) ? `"${c.replace(FORMULA, "'$&").replace(/"/g, '""')}"` : c;
}

export function csvRow(cells: Array<string | number | null | undefined>): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

export const CSV_BOM = '\ufeff';

/** A whole CSV document (BOM, a header and rows). */
export function toCsv(header: string[], rows: Array<Array<string | number | null | undefined>>): Buffer {
  return Buffer.from(CSV_BOM + [header, ...rows].map(csvRow).join(''), 'utf8');
}

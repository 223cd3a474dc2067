/**
 * File and folder names (issue 4 §2): names are metadata only; blobs live under random ids, so a
 * name never reaches a path or an object key. Still, names are shown to people and exported to
 * other systems, so they are normalised (NFC) and anything that could confuse a file system, a
 * terminal or a reader is refused with a stable reason.
 */
import { AppError } from '../core/errors.js';

/** Longest name in UTF-8 bytes: what common file systems (ext4, NTFS via UTF-16 ≈ 255 units) accept. */
export const MAX_NAME_BYTES = 255;

export type NameProblem = 'empty' | 'too_long' | 'control_character' | 'separator' | 'dot_name' | 'surrounding_space';

/** Returns the NFC form of `raw`, or the reason it cannot be a name. */
export function checkName(raw: string): { ok: true; name: string } | { ok: false; reason: NameProblem } {
  const name = raw.normalize('NFC');
  if (name.length === 0) return { ok: false, reason: 'empty' };
  // C0, DEL, C1 controls, and the Unicode line/paragraph separators and bidi overrides that can disguise an extension.
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u.test(name)) {
    return { ok: false, reason: 'control_character' };
  }
  if (/[/\\]/.test(name)) return { ok: false, reason: 'separator' };
  if (name === '.' || name === '..') return { ok: false, reason: 'dot_name' };
  if (name.trim() !== name) return { ok: false, reason: 'surrounding_space' };
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return { ok: false, reason: 'too_long' };
  return { ok: true, name };
}

/** The NFC name, or `name.invalid` with the reason. */
export function validName(raw: string): string {
  const r = checkName(raw);
  if (!r.ok) throw new AppError('name.invalid', r.reason, [r.reason]);
  return r.name;
}

/** The key two names collide on within one folder: case-insensitive (as Windows and macOS users expect). */
export function nameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/**
 * The "keep both" name: `報告書.docx` → `報告書 (2).docx`, `(3)`, … choosing the first number whose
 * key is not taken. The extension stays so the type is still recognised.
 */
export function keepBothName(name: string, taken: (key: string) => boolean): string {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 2; n < 10_000; n++) {
    const suffix = ` (${n})${ext}`;
    let base = stem;
    while (Buffer.byteLength(base + suffix, 'utf8') > MAX_NAME_BYTES) base = [...base].slice(0, -1).join('');
    const candidate = base + suffix;
    if (!taken(nameKey(candidate))) return candidate;
  }
  throw new AppError('name.taken');
}

/**
 * The personal-data check of a file's text (PII-02): My Number with its check digit, and the
 * tenant's own patterns. Only kinds and counts come out, never the matched text (LOG-06).
 *
 * Tenant patterns are regular expressions written by a tenant admin and run over up to
 * EXTRACT_MAX_CHARS characters, so a careless pattern (`(a+)+$`) could backtrack for hours. Each
 * one runs in a `node:vm` context with a timeout, which V8 enforces inside the regex engine as
 * well; a pattern that times out counts as no hit and is reported, so the admin can fix it.
 */
import vm from 'node:vm';
import { findMyNumbers } from '../pii/my-number.js';
import { extensionOf } from '../malware/true-type.js';

/** Per-pattern time limit: generous for a linear pattern over 4 M characters, fatal for catastrophic backtracking. */
export const PATTERN_TIMEOUT_MS = 1_000;
/**
 * All patterns of one file together: the check runs on the job worker's event loop, so its worst
 * case (50 patterns, each at its limit) is capped; patterns left when it is spent count as timed out.
 */
export const PATTERNS_BUDGET_MS = 5_000;
/** Matches counted per pattern; more adds nothing to the decision. */
export const MAX_MATCHES = 10_000;
/** Kind of a My Number hit; tenant patterns are `pattern:<name>`. */
export const MY_NUMBER_KIND = 'my_number';

export interface PiiHit {
  kind: string;
  count: number;
}

export interface PiiPatternInput {
  name: string;
  regex: string;
}

export interface PiiScanResult {
  hits: PiiHit[];
  /** Names of patterns that ran out of time. */
  timedOut: string[];
}

// Runs in its own context; `text` and `source` are strings (shared, not copied).
const COUNT_SCRIPT = `(() => {
  let n = 0;
  for (const _ of text.matchAll(new RegExp(source, 'gu'))) if (++n >= max) break;
  return n;
})()`;
const countScript = new vm.Script(COUNT_SCRIPT);

/** Matches of one pattern in `text`, or null when it ran out of time or does not compile. */
export function countMatches(text: string, regex: string, timeoutMs = PATTERN_TIMEOUT_MS): number | null {
  const context = vm.createContext({ text, source: regex, max: MAX_MATCHES });
  try {
    return Number(countScript.runInContext(context, { timeout: timeoutMs }));
  } catch {
    return null;
  }
}

/**
 * My Number and tenant pattern hits in `text`. The text is NFKC-normalised first (full-width digits
 * and letters, as Japanese documents often have them, match `\d` and ASCII patterns).
 */
export function scanText(
  text: string,
  patterns: readonly PiiPatternInput[],
  timeoutMs = PATTERN_TIMEOUT_MS,
  budgetMs = PATTERNS_BUDGET_MS,
): PiiScanResult {
  const normalised = text.normalize('NFKC');
  const hits: PiiHit[] = [];
  const timedOut: string[] = [];
  const myNumbers = findMyNumbers(normalised).length;
  if (myNumbers > 0) hits.push({ kind: MY_NUMBER_KIND, count: myNumbers });
  const deadline = performance.now() + budgetMs;
  for (const p of patterns) {
    const left = Math.floor(deadline - performance.now());
    const n = left > 0 ? countMatches(normalised, p.regex, Math.min(timeoutMs, left)) : null;
    if (n === null) timedOut.push(p.name);
    else if (n > 0) hits.push({ kind: `pattern:${p.name}`, count: n });
  }
  return { hits, timedOut };
}

/**
 * Whether `extractText` reads this file (src/pii/text-extract.ts): plain text and CSV (no binary
 * type detected), PDF, and Office Open XML. Anything else is `unsupported` without decrypting it.
 */
export function textExtractable(name: string, detectedMime: string | null): boolean {
  const ext = extensionOf(name);
  if (detectedMime === null && ['txt', 'csv', 'tsv', 'log', 'md'].includes(ext)) return true;
  if (detectedMime === 'application/pdf') return true;
  return ['docx', 'docm', 'xlsx', 'xlsm', 'pptx', 'pptm'].includes(ext);
}

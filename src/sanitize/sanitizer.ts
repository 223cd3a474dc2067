/**
 * 無害化 (content disarm and reconstruction, MAL-07) behind one interface. An engine reads a file's
 * plaintext (as a stream, or by ranges for formats with a directory at the end) and writes a rebuilt
 * file into `sink`, which stores it encrypted like any other blob: no engine ever writes plaintext to
 * disk. Each result lists what was removed, for the user and the audit log.
 *
 *   sanitised            rebuilt, nothing the user would miss (e.g. metadata, macros the policy forbids)
 *   sanitised_with_loss  rebuilt, but visible content had to go (OLE objects, ActiveX, form actions)
 *   failed               could not be rebuilt (malformed, over a limit): the file is held for review
 *   blocked              the format or its content (encryption, no engine) is refused by policy
 */
import type { Readable } from 'node:stream';

export interface SanitizeSource {
  /** The file name (for its extension; never used as a path). */
  name: string;
  size: number;
  /** The type detected from the content (MAL-06), if any. */
  detectedMime: string | null;
  /** The whole plaintext as a stream. */
  open(): Promise<Readable>;
  /** Plaintext bytes [start, end] (inclusive), decrypting only the segments they touch. */
  openRange(start: number, end: number): Promise<Readable>;
  /** The tenant's choices that change how a format is rebuilt. */
  policy?: { pdfMode?: 'standard' | 'strict' };
}

export interface Removed {
  /** Stable kind, translated by the UI: vba_project, activex, ole_object, external_link, dde_field, javascript, … */
  kind: string;
  count: number;
  /** e.g. a part name or a link target (never file content beyond such names). */
  detail?: string;
}

export type SanitizeOutcome =
  | {
      result: 'sanitised' | 'sanitised_with_loss';
      engine: string;
      /** Name of the rebuilt file (a macro-enabled type becomes its plain type: 報告.docm → 報告.docx). */
      name: string;
      contentType: string;
      removed: Removed[];
    }
  | { result: 'failed' | 'blocked'; engine: string; reason: string; removed: Removed[] };

/** Stores a rebuilt file; resolves when it is durable. */
export type SanitizeSink = (body: Readable) => Promise<void>;

export interface Sanitizer {
  readonly engine: string;
  /** Whether this engine rebuilds files of this kind (by detected type and extension). */
  handles(source: Pick<SanitizeSource, 'name' | 'detectedMime'>): boolean;
  sanitize(source: SanitizeSource, sink: SanitizeSink): Promise<SanitizeOutcome>;
}

/** A failure of the input (malformed, over a limit): the file is held with this reason. */
export class SanitizeError extends Error {
  constructor(
    readonly code: 'malformed' | 'limit' | 'encrypted' | 'unsupported',
    message: string,
  ) {
    super(message);
    this.name = 'SanitizeError';
  }
}

/**
 * Not a verdict on the file: the engine could not run (its thread failed to start or load, or died)
 * or storage stalled under it. The stage rethrows it, so the job is retried.
 */
export class SanitizeRetry extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SanitizeRetry';
  }
}

/** Adds one removal to a list, merging counts by kind and detail. */
export function noteRemoved(list: Removed[], kind: string, detail?: string, count = 1): void {
  const found = list.find((r) => r.kind === kind && r.detail === detail);
  if (found) found.count += count;
  else list.push(detail === undefined ? { kind, count } : { kind, count, detail });
}

export async function readAllLimited(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += (c as Buffer).length;
    if (n > limit) {
      stream.destroy();
      throw new SanitizeError('limit', `larger than ${limit} bytes`);
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

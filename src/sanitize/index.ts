/**
 * The 無害化 engines (MAL-07), tried in order; the first that handles a file rebuilds it. The heavy
 * libraries behind them are loaded only when a file needs them: yauzl/yazl and pdf-lib on the
 * thread that rebuilds the file, sharp on the first image. A node that never sanitises does not pay
 * their memory.
 */
import { extensionOf } from '../malware/true-type.js';
import { DEFAULT_ISOLATION, IsolatedSanitizer, type IsolationLimits } from './isolated.js';
import type { Sanitizer, SanitizeSink, SanitizeSource } from './sanitizer.js';
import { TextSanitizer } from './text.sanitizer.js';

export * from './sanitizer.js';

type Kind = Pick<SanitizeSource, 'name' | 'detectedMime'>;
const OOXML_EXT = new Set([
  'docx',
  'dotx',
  'xlsx',
  'xltx',
  'pptx',
  'potx',
  'ppsx',
  'docm',
  'dotm',
  'xlsm',
  'xltm',
  'pptm',
  'potm',
  'ppsm',
]);
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/tiff']);

/** Decides by name and detected type; loads the engine on first use. */
class LazySanitizer implements Sanitizer {
  private loaded: Promise<Sanitizer> | null = null;
  constructor(
    readonly engine: string,
    private readonly accepts: (s: Kind) => boolean,
    private readonly load: () => Promise<Sanitizer>,
  ) {}
  handles(s: Kind): boolean {
    return this.accepts(s);
  }
  async sanitize(source: SanitizeSource, sink: SanitizeSink) {
    // A failed import (a missing native module) is not kept: the next job tries again.
    this.loaded ??= this.load().catch((err: unknown) => {
      this.loaded = null;
      throw err;
    });
    return (await this.loaded).sanitize(source, sink);
  }
}

/**
 * The engines in order. The OOXML and PDF engines (JavaScript over hostile input) run on a thread
 * per file with the given time and heap bounds (isolated.ts); sharp's work already runs off the
 * event loop in libvips, under its own pixel limit, and the text engine is a bounded stream.
 */
export function defaultSanitizers(limits: IsolationLimits = DEFAULT_ISOLATION): Sanitizer[] {
  return [
    new IsolatedSanitizer(
      'kura-ooxml',
      (s) =>
        OOXML_EXT.has(extensionOf(s.name)) &&
        (s.detectedMime === 'application/zip' || /officedocument|macroenabled/i.test(s.detectedMime ?? '')),
      sibling('ooxml.sanitizer'),
      'OoxmlSanitizer',
      limits,
    ),
    new IsolatedSanitizer(
      'kura-pdf',
      (s) => s.detectedMime === 'application/pdf',
      sibling('pdf.sanitizer'),
      'PdfSanitizer',
      limits,
    ),
    new LazySanitizer(
      'sharp',
      (s) => s.detectedMime !== null && IMAGE_TYPES.has(s.detectedMime),
      async () => new (await import('./image.sanitizer.js')).ImageSanitizer(),
    ),
    new TextSanitizer(),
  ];
}

/** A module beside this one, as it is run: built (.js) or from source (.ts, under tsx or vitest). */
function sibling(name: string): URL {
  return new URL(`./${name}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
}

/** The engine for a file, or null when none handles its type (tenant policy: block or hold). */
export function pickSanitizer(engines: Sanitizer[], source: Kind): Sanitizer | null {
  return engines.find((e) => e.handles(source)) ?? null;
}

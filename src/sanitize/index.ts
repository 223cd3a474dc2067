/**
 * The 無害化 engines (MAL-07), tried in order; the first that handles a file rebuilds it. The heavy
 * libraries behind them (yauzl/yazl, pdf-lib, sharp) are loaded on the first file of their kind,
 * not at start: a node that never sanitises does not pay their memory.
 */
import { extensionOf } from '../malware/true-type.js';
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

export function defaultSanitizers(): Sanitizer[] {
  return [
    new LazySanitizer(
      'kura-ooxml',
      (s) =>
        OOXML_EXT.has(extensionOf(s.name)) &&
        (s.detectedMime === 'application/zip' || /officedocument|macroenabled/i.test(s.detectedMime ?? '')),
      async () => new (await import('./ooxml.sanitizer.js')).OoxmlSanitizer(),
    ),
    new LazySanitizer(
      'kura-pdf',
      (s) => s.detectedMime === 'application/pdf',
      async () => new (await import('./pdf.sanitizer.js')).PdfSanitizer(),
    ),
    new LazySanitizer(
      'sharp',
      (s) => s.detectedMime !== null && IMAGE_TYPES.has(s.detectedMime),
      async () => new (await import('./image.sanitizer.js')).ImageSanitizer(),
    ),
    new TextSanitizer(),
  ];
}

/** The engine for a file, or null when none handles its type (tenant policy: block or hold). */
export function pickSanitizer(engines: Sanitizer[], source: Kind): Sanitizer | null {
  return engines.find((e) => e.handles(source)) ?? null;
}

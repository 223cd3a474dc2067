/** The 無害化 engines (MAL-07), tried in order; the first that handles a file rebuilds it. */
import { ImageSanitizer } from './image.sanitizer.js';
import { OoxmlSanitizer } from './ooxml.sanitizer.js';
import { PdfSanitizer } from './pdf.sanitizer.js';
import type { Sanitizer, SanitizeSource } from './sanitizer.js';
import { TextSanitizer } from './text.sanitizer.js';

export * from './sanitizer.js';

export function defaultSanitizers(): Sanitizer[] {
  return [new OoxmlSanitizer(), new PdfSanitizer(), new ImageSanitizer(), new TextSanitizer()];
}

/** The engine for a file, or null when none handles its type (tenant policy: block or hold). */
export function pickSanitizer(engines: Sanitizer[], source: Pick<SanitizeSource, 'name' | 'detectedMime'>): Sanitizer | null {
  return engines.find((e) => e.handles(source)) ?? null;
}

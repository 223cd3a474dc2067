/**
 * Images (MAL-07): decoded and re-encoded by sharp (libvips) in the same format, which drops every
 * metadata block (EXIF with GPS, XMP, IPTC, comments) and anything appended after the image data;
 * the EXIF orientation is applied to the pixels first so the picture still looks the same. Every
 * page or frame is rebuilt (multi-page TIFF, e.g. faxes; animated GIF/WebP): a page that cannot be
 * kept (pages of different sizes, a multi-page image to turn upright) fails the file rather than
 * dropping pages. Streams in and out; libvips refuses images over its pixel limit (decompression
 * bombs), counted over all pages together.
 */
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Sharp from 'sharp';
import {
  noteRemoved,
  readAllLimited,
  SanitizeError,
  type Removed,
  type SanitizeOutcome,
  type SanitizeSink,
  type SanitizeSource,
  type Sanitizer,
} from './sanitizer.js';

const FORMATS: Record<string, { format: 'jpeg' | 'png' | 'gif' | 'webp' | 'tiff'; type: string }> = {
  'image/jpeg': { format: 'jpeg', type: 'image/jpeg' },
  'image/png': { format: 'png', type: 'image/png' },
  'image/gif': { format: 'gif', type: 'image/gif' },
  'image/webp': { format: 'webp', type: 'image/webp' },
  'image/tiff': { format: 'tiff', type: 'image/tiff' },
};
/** 100 megapixels: any real document scan or photo; more is refused as a decompression bomb. */
export const IMAGE_MAX_PIXELS = 100_000_000;
/** Larger image files are held for review instead of being decoded. */
export const IMAGE_MAX_BYTES = 256 * 1024 * 1024;

/** sharp (libvips) is loaded on the first image, not at start: a server that never sees one keeps its memory. */
let sharpModule: Promise<typeof Sharp> | null = null;
function loadSharp(): Promise<typeof Sharp> {
  sharpModule ??= import('sharp').then((m) => m.default);
  return sharpModule;
}

export class ImageSanitizer implements Sanitizer {
  #version: string | undefined;
  get engine(): string {
    return this.#version ? `sharp-${this.#version}` : 'sharp';
  }

  handles(s: Pick<SanitizeSource, 'name' | 'detectedMime'>): boolean {
    return s.detectedMime !== null && s.detectedMime in FORMATS;
  }

  async sanitize(source: SanitizeSource, sink: SanitizeSink): Promise<SanitizeOutcome> {
    const f = FORMATS[source.detectedMime!]!;
    const removed: Removed[] = [];
    // First pass: what metadata is there (to report it), reading only the header.
    // sharp buffers a streamed input whole anyway: read it once, within a bound, and decode from memory.
    const sharp = await loadSharp();
    this.#version = sharp.versions.sharp ?? 'unknown';
    const input = await readAllLimited(await source.open(), IMAGE_MAX_BYTES);
    const meta = await sharp(input, { limitInputPixels: IMAGE_MAX_PIXELS, failOn: 'error' })
      .metadata()
      .catch((err: Error) => {
        throw new SanitizeError('malformed', `not a readable image: ${err.message.slice(0, 120)}`);
      });
    if (meta.exif) noteRemoved(removed, 'exif');
    if (meta.xmp) noteRemoved(removed, 'xmp');
    if (meta.iptc) noteRemoved(removed, 'iptc');
    if (meta.icc) noteRemoved(removed, 'icc_profile');
    if (meta.comments?.length) noteRemoved(removed, 'comment', undefined, meta.comments.length);
    const pages = meta.pages ?? 1;
    const image = sharp(input, {
      limitInputPixels: IMAGE_MAX_PIXELS,
      failOn: 'error',
      // sharp reads only the first page unless told: -1 reads them all, and libvips writes them all back.
      pages: pages > 1 || f.format === 'gif' || f.format === 'webp' ? -1 : 1,
    })
      .rotate()
      .toFormat(f.format);
    const out = new PassThrough();
    try {
      await Promise.all([pipeline(image, out), sink(out)]);
    } catch (err) {
      out.destroy();
      const what =
        pages > 1 ? `multi-page image (${pages} pages) could not be rebuilt with all its pages` : 'image could not be re-encoded';
      throw new SanitizeError('malformed', `${what}: ${(err as Error).message.slice(0, 160)}`);
    }
    return { result: 'sanitised', engine: this.engine, name: source.name, contentType: f.type, removed };
  }
}

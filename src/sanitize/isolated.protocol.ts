/**
 * Messages between an isolated 無害化 engine (isolated.worker.ts, on a thread of its own) and the
 * process that owns the file (isolated.ts). The thread never touches storage or keys: it asks for
 * plaintext streams, which the owner reads from the vault and sends in chunks, and it sends the
 * rebuilt file back in chunks, which the owner stores. Both directions are credit-based, so neither
 * side holds more than WINDOW chunks of the other's.
 */
import type { SanitizeOutcome, SanitizeSource } from './sanitizer.js';

/** Chunks that may be on their way, per stream, before the receiver hands credit back. */
export const WINDOW = 4;

export interface IsolatedInit {
  /** The engine module (a URL) and the class it exports; the class takes no arguments. */
  module: string;
  exportName: string;
  source: Pick<SanitizeSource, 'name' | 'size' | 'detectedMime' | 'policy'>;
}

/** Thread → owner. */
export type FromEngine =
  | { t: 'open'; id: number; range?: [number, number] }
  | { t: 'credit'; id: number }
  | { t: 'cancel'; id: number }
  | { t: 'sink-chunk'; data: Uint8Array }
  | { t: 'sink-end' }
  | { t: 'sink-abort'; message: string }
  | { t: 'done'; outcome: SanitizeOutcome }
  | { t: 'error'; error: WireError };

/** Owner → thread. */
export type ToEngine =
  | { t: 'chunk'; id: number; data: Uint8Array }
  | { t: 'end'; id: number }
  | { t: 'fail'; id: number; message: string }
  | { t: 'sink-credit' }
  | { t: 'sink-done' }
  | { t: 'sink-fail'; message: string };

export interface WireError {
  name: string;
  message: string;
  /** SanitizeError's code, when it is one. */
  code?: string;
  /** The engine could not be loaded: not a verdict on the file (SanitizeRetry). */
  retry?: boolean;
}

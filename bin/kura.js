#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --heap-growing-percent=100
// The `kura` command: runs the compiled CLI (built by `npm ci`/`npm run build`). Both settings are also
// in `npm start` (docs/deployment.md, "Throughput and sizing"):
// - MALLOC_ARENA_MAX=2: glibc otherwise gives threads their own malloc arenas, which keep freed
//   transfer buffers; in the files benchmark it lowers peak RSS by about 40 MB.
// - --heap-growing-percent=100: V8 otherwise lets the old generation grow only a little past its
//   live size under a steady allocation rate, so a transfer ran full GCs back to back.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const main = join(root, 'dist', 'main.js');
if (!existsSync(main)) {
  process.stderr.write(`kura: ${main} is missing; run \`npm run build\` (npm ci does it) first\n`);
  process.exit(2);
}
await import(pathToFileURL(main).href);

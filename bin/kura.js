#!/usr/bin/env -S node --max-semi-space-size=32
// The `kura` command: runs the compiled CLI (built by `npm ci`/`npm run build`).
// --max-semi-space-size=32 (also in `npm start`): with V8's default young generation, buffers of a
// transfer that follows a slow one (a clamd scan) are promoted and every few tens of megabytes force
// a full GC ("external memory pressure"), which cut downloads to half speed in the files benchmark.
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

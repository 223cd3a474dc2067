#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node
// The `kura` command: runs the compiled CLI (built by `npm ci`/`npm run build`).
// MALLOC_ARENA_MAX=2 (also in `npm start`): glibc otherwise gives threads their own malloc arenas, which
// keep freed transfer buffers; in the files benchmark it lowers peak RSS by about 40 MB (docs/deployment.md).
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

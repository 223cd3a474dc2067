import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../support/cli.js';

/**
 * Builds the web UI unless web/dist is already there (the test script normally builds it first).
 * The server only serves files that exist when it starts, so call this before `startKura`.
 */
export function ensureWebBuilt(): void {
  if (existsSync(join(REPO, 'web/dist/index.html'))) return;
  const vite = join(REPO, 'node_modules/vite/bin/vite.js');
  execFileSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts'], { cwd: REPO, stdio: 'inherit' });
}

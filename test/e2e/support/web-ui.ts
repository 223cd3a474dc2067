import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../../support/cli.js';

/** Newest modification time of the files the UI is built from. */
function newestSource(): number {
  let newest = 0;
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const p of ['web/src', 'web/public', 'web/index.html', 'web/vite.config.ts', 'package-lock.json']) {
    if (existsSync(join(REPO, p))) visit(join(REPO, p));
  }
  return newest;
}

/**
 * Builds the web UI unless web/dist is already there and newer than its sources (the test script
 * normally builds it first). The server only serves files that exist when it starts, so call this
 * before `startKura`.
 */
export function ensureWebBuilt(): void {
  const index = join(REPO, 'web/dist/index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestSource()) return;
  const vite = join(REPO, 'node_modules/vite/bin/vite.js');
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  execFileSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], {
    cwd: REPO,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

#!/usr/bin/env node
// `npm test`: checks (and as root installs) the system prerequisites, builds the web UI, runs every
// Vitest project (unit, integration on SQLite and on PostgreSQL, end-to-end with TLS and Chromium)
// and ends with one summary line `N passed, N failed`. Extra arguments go to Vitest.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;

if (run('bash', ['scripts/prereqs.sh']) !== 0) process.exit(1);
if (run('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']) !== 0) process.exit(1);

mkdirSync(join(root, '.test-output'), { recursive: true });
const report = join(root, '.test-output', 'vitest.json');
const status = run('npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
]);

if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  // A file that failed to load has no failed test of its own; count it as one failure.
  const broken = (r.testResults ?? []).filter(
    (s) => s.status === 'failed' && !s.assertionResults?.some((a) => a.status === 'failed'),
  ).length;
  console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests + broken} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
}
process.exit(status);

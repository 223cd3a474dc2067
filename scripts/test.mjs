#!/usr/bin/env node
// `npm test`: checks (and as root installs) the system prerequisites, starts the test services
// (Ceph RGW for S3, clamd with test signatures; test/services/*.sh) while it builds the web UI, runs
// every Vitest project (unit, integration on SQLite and on PostgreSQL, end-to-end with TLS and
// Chromium) with the services' addresses in KURA_TEST_*, stops the services it started (also on
// failure) and ends with one summary line `N passed, N failed`. Extra arguments go to Vitest.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1;

/**
 * Runs `test/services/<name>.sh start`; resolves with the KURA_TEST_* variables it prints and
 * whether it started the service (`<name>: started`) or found one answering (`<name>: reused`).
 */
function startService(name) {
  return new Promise((resolve) => {
    const child = spawn('bash', [`test/services/${name}.sh`, 'start'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => {
      const env = Object.fromEntries(
        out
          .split('\n')
          .filter((l) => /^KURA_TEST_[A-Z0-9_]+=/.test(l))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      resolve({ name, ok: code === 0, started: out.includes(`${name}: started`), env });
    });
  });
}

const started = [];
function stopServices() {
  for (const name of started.splice(0).reverse()) run('bash', [`test/services/${name}.sh`, 'stop']);
}
// Ctrl-C reaches Vitest through the process group; this process stays to stop the services.
process.on('SIGINT', () => {});

if (run('bash', ['scripts/prereqs.sh']) !== 0) process.exit(1);
const services = Promise.all(['rgw', 'clamd'].map(startService));
const built = run('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn']) === 0;
const up = await services;
started.push(...up.filter((s) => s.started).map((s) => s.name));
if (!built || up.some((s) => !s.ok)) {
  for (const s of up.filter((s) => !s.ok)) console.error(`test: ${s.name} did not start (see above)`);
  stopServices();
  process.exit(1);
}

mkdirSync(join(root, '.test-output'), { recursive: true });
const report = join(root, '.test-output', 'vitest.json');
const env = { ...process.env, ...Object.assign({}, ...up.map((s) => s.env)) };
const status =
  spawnSync(
    'npx',
    ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
    { cwd: root, stdio: 'inherit', env },
  ).status ?? 1;
stopServices();

if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  // A file that failed to load has no failed test of its own; count it as one failure.
  const broken = (r.testResults ?? []).filter(
    (s) => s.status === 'failed' && !s.assertionResults?.some((a) => a.status === 'failed'),
  ).length;
  console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests + broken} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
}
process.exit(status);

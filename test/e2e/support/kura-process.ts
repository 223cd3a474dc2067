/**
 * Runs the real `kura serve` as a child process for browser tests: a fresh working directory and
 * data directory, both zone listeners on free loopback ports, TLS with the generated self-signed
 * certificates. The working directory matters: `serve` writes kura.yaml there on first start.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const READY_LINE = 'Kura (蔵) is running';
const START_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;

export interface KuraProcess {
  urls: { lgwan: string; internet: string };
  dir: string;
  stop(): Promise<void>;
}

/** Builds the web UI unless web/dist is already there (the test script normally builds it first). */
export function ensureWebBuilt(): void {
  if (existsSync(join(REPO_ROOT, 'web/dist/index.html'))) return;
  const vite = join(REPO_ROOT, 'node_modules/vite/bin/vite.js');
  execFileSync(process.execPath, [vite, 'build', '--config', 'web/vite.config.ts'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

/** Two distinct free loopback ports (held open together so they cannot coincide). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
      const address = server.address();
      if (!address || typeof address === 'string') throw new Error('no port assigned');
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((ok) => s.close(() => ok()))));
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((ok) => {
    const timer = setTimeout(() => ok(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      ok(true);
    });
  });
}

export async function startKura(): Promise<KuraProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'kura-e2e-'));
  const [lgwanPort, internetPort] = await freePorts(2);
  // tsx is resolved from the repository, not from the temporary working directory.
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsxLoader, join(REPO_ROOT, 'src/main.ts'), 'serve'], {
    cwd: dir,
    env: {
      ...process.env,
      KURA_DATA_DIR: join(dir, 'data'),
      KURA_LGWAN_PORT: String(lgwanPort),
      KURA_INTERNET_PORT: String(internetPort),
      KURA_HOST: '127.0.0.1',
      KURA_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, STOP_GRACE_MS))) {
        child.kill('SIGKILL');
        await waitForExit(child, STOP_GRACE_MS);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`kura serve did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      const check = () => {
        if (stdout.includes(READY_LINE)) {
          clearTimeout(timer);
          ok();
        }
      };
      child.stdout?.on('data', check);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(new Error(`kura serve exited early (code ${code}, signal ${signal})`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        fail(err);
      });
    });
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`);
  }

  return {
    urls: { lgwan: `https://127.0.0.1:${lgwanPort}/`, internet: `https://127.0.0.1:${internetPort}/` },
    dir,
    stop,
  };
}

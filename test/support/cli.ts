/** Runs the real `kura` CLI (from source, through tsx) as a child process, as an operator would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const TSX = import.meta.resolve('tsx');
const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // No managed clamd unless a test asks for one (it would load the machine's signatures per instance).
  const env: NodeJS.ProcessEnv = { ...process.env, KURA_LOG_LEVEL: 'warn', KURA_CLAMD_MANAGED: 'off', ...extra };
  for (const k of Object.keys(env))
    if (k.startsWith('KURA_') && !(k in extra) && k !== 'KURA_LOG_LEVEL' && k !== 'KURA_CLAMD_MANAGED') delete env[k];
  return env;
}

export function runKura(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
      cwd: opts.cwd,
      env: baseEnv(opts.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface RunningKura {
  child: ChildProcess;
  lgwanPort: number;
  internetPort: number;
  stdout: () => string;
  stop(): Promise<void>;
}

/** Starts `kura serve` and waits until it says it is running. */
export async function startKura(opts: { cwd: string; env?: Record<string, string> }): Promise<RunningKura> {
  const lgwanPort = await freePort();
  const internetPort = await freePort();
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve'], {
    cwd: opts.cwd,
    env: baseEnv({
      KURA_LGWAN_PORT: String(lgwanPort),
      KURA_INTERNET_PORT: String(internetPort),
      KURA_HOST: '127.0.0.1',
      ...(opts.env ?? {}),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kura serve did not start in 60 s\n${stdout}\n${stderr}`));
    }, 60_000);
    const check = () => {
      if (stdout.includes('Kura (蔵) is running')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kura serve exited with ${code}\n${stdout}\n${stderr}`));
    });
  });
  return {
    child,
    lgwanPort,
    internetPort,
    stdout: () => stdout,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

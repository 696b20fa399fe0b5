/**
 * Child processes of the example shop (test/chaos/worker.ts: its routes,
 * loader and database guard, on a store with short holds), for the suites
 * that need several app processes sharing one Redis and one database.
 * Workers still running when this process exits are killed.
 *
 * @example
 * const worker = await startWorker({ ...process.env, REDIS_URL, DATABASE_URL, CHAOS_PREFIX: prefix });
 * await fetch(`http://127.0.0.1:${worker.port}/orders`, ...);
 * await stopWorker(worker);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from './redis-server';

const ROOT = join(__dirname, '..', '..');
const WORKER = join(ROOT, 'test', 'chaos', 'worker.ts');

export interface Worker {
  child: ChildProcess;
  port: number;
  /** Its recent output (for failure messages). */
  log: string;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Starts a worker on a free loopback port with `env` and resolves once it
 * listens; `onLine` hears every line it prints (its reports).
 */
export async function startWorker(env: NodeJS.ProcessEnv, onLine?: (line: string) => void): Promise<Worker> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    cwd: ROOT,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const worker: Worker = { child, port, log: '' };
  const keep = (chunk: Buffer) => (worker.log = (worker.log + chunk.toString('utf8')).slice(-3000));
  child.stderr?.on('data', keep);
  if (onLine) createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', onLine);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker on port ${port} did not start within 30 s:\n${worker.log}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      keep(chunk);
      if (worker.log.includes(`listening ${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker on port ${port} exited with ${code} at start:\n${worker.log}`));
    });
  });
  return worker;
}

/** Stops a worker (`signal`, then SIGKILL after 3 s) and waits for it to exit. */
export async function stopWorker(worker: Worker, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const { child } = worker;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

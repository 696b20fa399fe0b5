/**
 * The runner's side of a child process (a contender's server, or the data
 * layer worker): start it, ask it things over IPC, stop it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Item } from './servers/types';

export type ChildRequest =
  | { id: number; type: 'prepare'; items: Item[] }
  | { id: number; type: 'stats' }
  | { id: number; type: 'audit'; items: Item[] }
  | { id: number; type: 'cleanup'; items: Item[] }
  | { id: number; type: 'stop' }
  | { id: number; type: 'job'; job: unknown };

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type ChildRequestBody = DistributiveOmit<ChildRequest, 'id'>;

export type ChildReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface ServerStats {
  dbTransactions: number;
  redisCommands: number;
  busy: number;
  inFlight: number;
  connections: number;
  requests: number;
  rss: number;
}

export interface StartOptions {
  /** Module to run, relative to bench/. */
  entry: string;
  env: Record<string, string>;
  /** Extra node flags, such as --cpu-prof. */
  execArgv?: string[];
  startTimeoutMs?: number;
}

/** A child that answers requests by id; its first message (id 0) says it is ready. */
export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(
    readonly process: ChildProcess,
    readonly ready: Promise<unknown>,
  ) {
    this.exit = new Promise((resolve) => process.once('exit', () => resolve()));
  }

  static start(options: StartOptions): Child {
    const proc = fork(join(__dirname, options.entry), [], {
      execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
      env: { ...process.env, NODE_ENV: 'production', ...options.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settleReady!: { resolve: (v: unknown) => void; reject: (e: Error) => void };
    const ready = new Promise<unknown>((resolve, reject) => (settleReady = { resolve, reject }));
    const child = new Child(proc, ready);
    const timer = setTimeout(
      () => settleReady.reject(new Error(`${options.entry} did not start within ${options.startTimeoutMs ?? 30_000} ms`)),
      options.startTimeoutMs ?? 30_000,
    );
    proc.on('message', (message: ChildReply) => {
      if (message.id === 0) {
        clearTimeout(timer);
        if (message.ok) settleReady.resolve(message.result);
        else settleReady.reject(new Error(message.error));
        return;
      }
      const waiter = child.pending.get(message.id);
      if (!waiter) return;
      child.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(message.error));
    });
    proc.once('exit', (code, signal) => {
      child.exited = true;
      clearTimeout(timer);
      const error = new Error(`${options.entry} exited (${signal ?? code})`);
      settleReady.reject(error);
      for (const waiter of child.pending.values()) waiter.reject(error);
      child.pending.clear();
    });
    // A rejection nobody awaits yet must not crash the runner.
    ready.catch(() => {});
    return child;
  }

  request<T>(body: ChildRequestBody, timeoutMs = 120_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error('child has exited'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`child did not answer ${body.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.process.send({ ...body, id } as ChildRequest);
    });
  }

  /** Asks the child to stop, then kills it (by its own pid) if it lingers. */
  async stop(timeoutMs = 15_000): Promise<void> {
    if (this.exited) return;
    try {
      await this.request({ type: 'stop' }, timeoutMs);
    } catch {
      // killed below
    }
    const timer = setTimeout(() => {
      if (!this.exited) this.process.kill('SIGKILL');
    }, timeoutMs);
    await this.exit;
    clearTimeout(timer);
  }
}

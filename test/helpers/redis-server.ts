/**
 * A private redis-server for tests that stop, restart, pause or flush Redis:
 * never do those to the shared server at REDIS_URL.
 *
 * Each instance is a child process on a loopback port, with no automatic
 * persistence, that the test starts itself and must stop in `after`.
 * Instances still running when the process exits are killed. Each has its
 * own working folder (`dir`): send SAVE before `restart()` to keep the data
 * across it (the server loads dump.rdb from there at start).
 *
 * @example
 * let server: RedisServer;
 * before(async () => { server = await RedisServer.start(); });
 * after(async () => { await server.dispose(); });
 * // server.url, server.port, await server.stop(), await server.start(),
 * // await server.restart(), await server.kill(), server.pause(), server.resume()
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RedisServerOptions {
  /** A fixed port; default a free loopback port. */
  port?: number;
  /** Extra redis-server arguments, e.g. ['--enable-debug-command', 'local']. */
  args?: string[];
  /** The redis-server binary. Default $REDIS_SERVER_BIN or `redis-server`. */
  bin?: string;
  /** How long to wait for PING to answer. Default 10 s. */
  startTimeoutMs?: number;
}

const HOST = '127.0.0.1';
const running = new Set<ChildProcess>();
const dirs = new Set<string>();

process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A TCP port that was free on the loopback interface a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/** Sends one inline command over a raw socket; resolves with the first reply line. */
export function rawCommand(port: number, command: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port });
    let data = '';
    const done = (error: Error | null, line?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(line as string);
    };
    const timer = setTimeout(() => done(new Error(`no answer to ${command} within ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', (error) => done(error));
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      data += chunk.toString('utf8');
      const end = data.indexOf('\r\n');
      if (end >= 0) done(null, data.slice(0, end));
    });
  });
}

/** True when a server on `port` answers PING with PONG. */
export async function pings(port: number, timeoutMs = 1000): Promise<boolean> {
  try {
    return (await rawCommand(port, 'PING', timeoutMs)) === '+PONG';
  } catch {
    return false;
  }
}

export class RedisServer {
  private child: ChildProcess | undefined;
  private output = '';
  /** The server's working folder (dump.rdb), kept across restarts. */
  readonly dir: string;

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), `redis-test-${port}-`));
    dirs.add(this.dir);
  }

  /** Starts a server and resolves once it answers PING. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    // A free port can be taken between the probe and the bind: try a few.
    for (let attempt = 0; ; attempt++) {
      const server = new RedisServer(options.port ?? (await freePort()), options);
      try {
        await server.launch();
        return server;
      } catch (error) {
        server.removeDir();
        if (options.port !== undefined || attempt >= 4) throw error;
      }
    }
  }

  get host(): string {
    return HOST;
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The process id while it runs. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  private async launch(): Promise<void> {
    const bin = this.options.bin ?? process.env.REDIS_SERVER_BIN ?? 'redis-server';
    const args = [
      '--port', String(this.port),
      '--bind', HOST,
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--dir', this.dir,
      ...(this.options.args ?? []),
    ];
    this.output = '';
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    child.stdout?.on('data', (chunk: Buffer) => this.keepOutput(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.keepOutput(chunk));
    let failure: Error | undefined;
    child.once('error', (error) => (failure = error));
    child.once('exit', () => running.delete(child));

    const deadline = Date.now() + (this.options.startTimeoutMs ?? 10_000);
    while (Date.now() < deadline) {
      if (failure) break;
      if (!this.running) {
        failure = new Error(`redis-server on port ${this.port} exited at start:\n${this.output}`);
        break;
      }
      if (await pings(this.port, 500)) return;
      await sleep(50);
    }
    await this.stop();
    throw failure ?? new Error(`redis-server on port ${this.port} did not answer PING in time:\n${this.output}`);
  }

  private keepOutput(chunk: Buffer): void {
    this.output = (this.output + chunk.toString('utf8')).slice(-4000);
  }

  /** The server's recent log output (for failure messages). */
  get log(): string {
    return this.output;
  }

  /** Stops the server (SIGTERM, then SIGKILL after `graceMs`) and waits for it to exit. */
  async stop(graceMs = 5000): Promise<void> {
    await this.signal('SIGTERM', graceMs);
  }

  /** Kills the server at once (SIGKILL), as a crash would. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL', 5000);
  }

  /** Freezes the process (SIGSTOP): it holds its connections but reads and answers nothing until `resume()`. */
  pause(): void {
    if (this.running) this.child?.kill('SIGSTOP');
  }

  /** Lets a paused process run on (SIGCONT). */
  resume(): void {
    if (this.running) this.child?.kill('SIGCONT');
  }

  private async signal(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private removeDir(): void {
    rmSync(this.dir, { recursive: true, force: true });
    dirs.delete(this.dir);
  }

  /** Stops the server for good and removes its working folder. */
  async dispose(): Promise<void> {
    await this.stop();
    this.removeDir();
  }

  /** Starts a stopped server again on the same port (an empty data set). */
  async start(): Promise<void> {
    if (this.running) return;
    await this.launch();
  }

  /** Stops and starts again on the same port (an empty data set). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }
}

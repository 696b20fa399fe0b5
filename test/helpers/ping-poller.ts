/**
 * Another client of a Redis, as the rest of a shop is: it sends PING after
 * PING (a millisecond apart) and times each round trip, from a process of
 * its own, so that what it measures is Redis's answer, not the test's own
 * event loop (which may be busy parsing a batch of replies).
 *
 * The machine is shared: a process that waits for a core adds that wait to
 * whatever it times (a 4 ms script has shown in SLOWLOG as 40 ms while other
 * sessions kept both cores busy). {@link raisePriority} lets the private
 * redis-server and the poller go first (as root; elsewhere it does nothing),
 * so that SLOWLOG and the PINGs measure the scripts' own work, not the
 * machine's other load. A raised priority shortens no script: one that does
 * too much still shows.
 *
 * @example
 * const poller = await PingPoller.start(server.port);
 * ... // the work under test
 * const { count, maxMs } = await poller.stop();
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { setPriority } from 'node:os';

export interface PingReport {
  /** PINGs answered. */
  count: number;
  /** The longest round trip, ms. */
  maxMs: number;
  /** The round trips over `slowMs` (at most 20 of them), ms. */
  slow: number[];
}

/**
 * Lets process `pid` (its main thread) run before the machine's other work:
 * the real-time policy SCHED_FIFO (`chrt`), else the highest nice value;
 * neither without root. False when neither could be set.
 */
export function raisePriority(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    execFileSync('chrt', ['--fifo', '--pid', '10', String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    try {
      setPriority(pid, -20);
      return true;
    } catch {
      return false; // not root: the checks then also time the machine's other load
    }
  }
}

// Plain JavaScript for `node -e`: one PING in flight at a time, over a raw
// socket; 'ready' once connected; on any input, the report as one JSON line.
const POLLER = `
const net = require('node:net');
const [port, slowMs] = process.argv.slice(1).map(Number);
const socket = net.connect(port, '127.0.0.1');
socket.setNoDelay(true);
let sentAt = 0n;
let buffer = '';
let stopping = false;
const report = { count: 0, maxMs: 0, slow: [] };
function send() {
  if (stopping) {
    socket.destroy();
    process.stdout.write(JSON.stringify(report) + '\\n', () => process.exit(0));
    return;
  }
  sentAt = process.hrtime.bigint();
  socket.write('PING\\r\\n');
}
socket.on('connect', () => {
  process.stdout.write('ready\\n');
  send();
});
socket.on('data', (chunk) => {
  buffer += chunk.toString('latin1');
  let end;
  while ((end = buffer.indexOf('\\r\\n')) >= 0) {
    const line = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    if (line !== '+PONG') throw new Error('PING answered ' + line);
    const ms = Number(process.hrtime.bigint() - sentAt) / 1e6;
    report.count++;
    report.maxMs = Math.max(report.maxMs, ms);
    if (ms > slowMs && report.slow.length < 20) report.slow.push(ms);
    setTimeout(send, 1);
  }
});
socket.on('error', (error) => { throw error; });
process.stdin.on('data', () => { stopping = true; });
`;

export class PingPoller {
  private output = '';
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    let errors = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
    this.exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    this.exited.then((code) => {
      if (code !== 0) this.output += `\nexited ${code}: ${errors}`;
    }, () => undefined);
  }

  /** Starts polling the Redis on `port` (at a raised priority); resolves once connected. `slowMs`: which round trips to list. */
  static async start(port: number, slowMs = 50): Promise<PingPoller> {
    const poller = new PingPoller(spawn(process.execPath, ['-e', POLLER, String(port), String(slowMs)], { stdio: ['pipe', 'pipe', 'pipe'] }));
    raisePriority(poller.child.pid);
    for (const started = Date.now(); !poller.output.startsWith('ready\n'); ) {
      if (poller.child.exitCode !== null || Date.now() - started > 10_000) throw new Error(`the PING poller did not start: ${poller.output}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return poller;
  }

  /** Stops after the PING in flight; what it measured. */
  async stop(): Promise<PingReport> {
    this.child.stdin.end('stop\n');
    const code = await this.exited;
    const line = this.output.split('\n')[1];
    if (code !== 0 || !line) throw new Error(`the PING poller failed: ${this.output}`);
    return JSON.parse(line) as PingReport;
  }
}

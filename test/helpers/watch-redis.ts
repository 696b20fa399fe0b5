/**
 * What a stretch of work does to a private Redis: the script calls its
 * SLOWLOG keeps (every one slower than the server's
 * `slowlog-log-slower-than`; with 0, every one) and how long another
 * client's PINGs waited meanwhile (./ping-poller.ts). For the footprint
 * suite and the bench's script scenario.
 */
import type { Redis } from 'ioredis';
import { PingPoller, type PingReport } from './ping-poller';

/** A script call SLOWLOG kept. */
export interface ScriptRun {
  /** EVAL or EVALSHA, with the start of its script or sha. */
  command: string;
  ms: number;
}

export interface Watched<T> {
  result: T;
  /** The script calls SLOWLOG kept, as they ran. */
  scripts: ScriptRun[];
  ping: PingReport;
}

/** Enough for the scripts of any work watched here (the caller sets `slowlog-max-len` at least this). */
export const SLOWLOG_READ = 100_000;

const SCRIPT_COMMAND = /^(EVAL|EVALSHA|EVAL_RO|EVALSHA_RO)$/i;

/**
 * Runs `work` with SLOWLOG and the command stats reset and a PING poller
 * on `port` running; `admin` is a connection of its own for the checks.
 */
export async function watchRedis<T>(admin: Redis, port: number, work: () => Promise<T>, slowPingMs = 50): Promise<Watched<T>> {
  await admin.slowlog('RESET');
  await admin.config('RESETSTAT');
  const poller = await PingPoller.start(port, slowPingMs);
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await poller.stop().catch(() => undefined);
    throw error;
  }
  const ping = await poller.stop();
  const entries = (await admin.slowlog('GET', SLOWLOG_READ)) as [number, number, number, string[]][];
  const scripts = entries
    .filter(([, , , args]) => SCRIPT_COMMAND.test(String(args[0])))
    .reverse()
    .map(([, , us, args]) => ({ command: `${String(args[0])} ${String(args[1]).slice(0, 40)}`, ms: us / 1000 }));
  return { result, scripts, ping };
}

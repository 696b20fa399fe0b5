/**
 * The data layer, runner's side: the store bench and the flash sale without
 * HTTP run in a child (data-main.ts); redis-benchmark runs EVALSHA of the
 * same reserve script at the same concurrency, no pipelining.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { createStockStore } from '../lib';
import { scriptSource } from '../lib/scripts/commands';
import { stockKeys } from '../lib/store/keys';
import type { BenchSettings } from './config';
import type { DataJob, DataJobResult, StoreJob } from './data-main';
import { Child } from './process';
import { deleteKeys } from './servers/common';
import type { Percentiles } from './stats';

export const REDIS_BENCHMARK = process.env.REDIS_BENCHMARK ?? '/usr/bin/redis-benchmark';

/** The data-layer worker process: runs jobs one after the other. */
export class DataWorker {
  private constructor(private readonly child: Child) {}

  static async start(execArgv: string[] = []): Promise<DataWorker> {
    const child = Child.start({ entry: 'data-main.ts', env: {}, execArgv });
    await child.ready;
    return new DataWorker(child);
  }

  run(job: DataJob): Promise<DataJobResult> {
    return this.child.request<DataJobResult>({ type: 'job', job }, 10 * 60_000);
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}

/** A `store` job at the bench's concurrency and time limit, on keys named by `code`. */
export function storeJob(
  settings: BenchSettings,
  runId: string,
  code: string,
  job: Pick<StoreJob, 'redisUrl' | 'calls' | 'warmup' | 'waitReplicas'>,
): StoreJob {
  const { concurrency, maxSec } = settings.store;
  return { kind: 'store', prefix: `bench:b${runId}${code}:`, sku: `b${runId}${code}`, concurrency, maxSec, ...job };
}

export interface RedisBenchmarkResult {
  rps: number;
  latency: Percentiles;
  /** Seconds the run took (calls / rps). */
  elapsedSec: number;
  /** Points of the latency distribution: [ms, calls at or below]. */
  cdf: [number, number][];
  calls: number;
  /** Units the key lost: each EVALSHA reserved one. */
  reserved: number;
  sha: string;
  notes: string[];
}

/** Parses redis-benchmark's report (without -q / --csv). */
export function parseRedisBenchmark(output: string): { rps: number; latency: Percentiles; cdf: [number, number][] } {
  const text = output.replace(/\r/g, '\n');
  const rps = Number(/throughput summary:\s*([\d.]+)\s*requests per second/.exec(text)?.[1]);
  const summary = /avg\s+min\s+p50\s+p95\s+p99\s+max\s*\n\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)/.exec(text);
  let p999: number | null = null;
  for (const m of text.matchAll(/^\s*([\d.]+)% <= ([\d.]+) milliseconds/gm)) {
    if (Number(m[1]) >= 99.9) {
      p999 = Number(m[2]);
      break;
    }
  }
  if (!Number.isFinite(rps) || !summary) throw new Error(`cannot read redis-benchmark's output:\n${output.slice(-2000)}`);
  const cdf: [number, number][] = [];
  for (const m of text.matchAll(/<= ([\d.]+) milliseconds \(cumulative count (\d+)\)/g)) cdf.push([Number(m[1]), Number(m[2])]);
  cdf.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { rps, latency: { p50: Number(summary[3]), p99: Number(summary[5]), p999 }, cdf };
}

// Hold ids of the redis-benchmark run: each `__rand_int__` becomes a random
// number below NONCE_SPACE (redis-benchmark repeats one value from 10^12 up),
// drawn from a 31-bit random(); two of them per id make two calls sharing an
// id (one would replay instead of reserving) a one-in-10^18 event.
const NONCE_SPACE = '100000000000';
const NONCE = 'n__rand_int__.__rand_int__';
const HOLD_MS = '900000';
const RETENTION_MS = '86400000';

/**
 * `redis-benchmark -n calls -c concurrency EVALSHA <sha> 7 <keys> 1 <nonce>
 * <holdMs> <retentionMs> '' ''`: the reserve script the store runs (no customer), with a fresh
 * hold id per call, on the bench's own item, loaded with SCRIPT LOAD first.
 */
export async function runRedisBenchmark(
  options: Pick<StoreJob, 'redisUrl' | 'prefix' | 'sku' | 'calls' | 'concurrency' | 'maxSec'>,
): Promise<RedisBenchmarkResult> {
  const redis = new Redis(options.redisUrl);
  const store = createStockStore({ redis, prefix: options.prefix });
  const url = new URL(options.redisUrl);
  const lua = scriptSource('reserveHold');
  const initial = options.calls * 2;
  try {
    const sha = (await redis.script('LOAD', lua)) as string;
    const notes: string[] = [];
    if (sha !== createHash('sha1').update(lua).digest('hex')) notes.push('SCRIPT LOAD returned an unexpected sha');
    await store.setStock(options.sku, initial, 600);
    const args = ['-h', url.hostname, '-p', url.port || '6379', '-c', String(options.concurrency), '-n', String(options.calls)];
    const keys = stockKeys(options.prefix, options.sku).holds;
    args.push('-r', NONCE_SPACE, 'EVALSHA', sha, String(keys.length), ...keys);
    // No customer, the item's own limit: the plain reservation of store.reserve().
    args.push('1', NONCE, HOLD_MS, RETENTION_MS, '', '');
    const output = await new Promise<string>((resolve, reject) => {
      const proc = spawn(REDIS_BENCHMARK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => proc.kill('SIGKILL'), options.maxSec * 3000);
      proc.on('error', reject);
      proc.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(out);
        else reject(new Error(`redis-benchmark exited ${code}:\n${out.slice(-2000)}`));
      });
    });
    const parsed = parseRedisBenchmark(output);
    const reserved = initial - ((await store.getStock(options.sku)) ?? initial);
    if (reserved !== options.calls) notes.push(`the key lost ${reserved} units for ${options.calls} calls`);
    return { ...parsed, elapsedSec: options.calls / parsed.rps, calls: options.calls, reserved, sha, notes };
  } finally {
    await deleteKeys(redis, options.prefix);
    await redis.quit();
  }
}

/**
 * Several redis-benchmark runs as one: calls over seconds, and percentiles
 * from the sum of their latency distributions (each run's points are the
 * latencies at which its cumulative count is known).
 */
export function mergeRedisBenchmarks(runs: RedisBenchmarkResult[]): RedisBenchmarkResult {
  const first = runs[0];
  if (!first) throw new Error('no redis-benchmark run to merge');
  if (runs.length === 1) return first;
  const calls = runs.reduce((n, r) => n + r.calls, 0);
  const elapsedSec = runs.reduce((n, r) => n + r.elapsedSec, 0);
  const countAt = (cdf: [number, number][], ms: number): number => {
    let count = 0;
    for (const [at, n] of cdf) if (at <= ms) count = Math.max(count, n);
    return count;
  };
  const points = [...new Set(runs.flatMap((r) => r.cdf.map(([ms]) => ms)))].sort((a, b) => a - b);
  const at = (q: number): number | null => {
    for (const ms of points) if (runs.reduce((n, r) => n + countAt(r.cdf, ms), 0) >= q * calls) return ms;
    return null;
  };
  return {
    rps: calls / elapsedSec,
    latency: { p50: at(0.5), p99: at(0.99), p999: at(0.999) },
    elapsedSec,
    cdf: [],
    calls,
    reserved: runs.reduce((n, r) => n + r.reserved, 0),
    sha: first.sha,
    notes: [...new Set(runs.flatMap((r) => r.notes))],
  };
}

/**
 * The data-layer worker, a child process of the runner: no HTTP, N
 * concurrent callers in this one process. It runs one job and answers it
 * over IPC (see process.ts and data.ts).
 *
 * - `store`: `store.reserve()` in a loop on one key with ample stock.
 * - `flash-data`: a flash sale, 100 attempts per unit; with the gate,
 *   `store.reserve()` first and the database transaction for winners only;
 *   without (mysql-row), the transaction for every attempt.
 */
import { Redis } from 'ioredis';
import { createStockStore, type StockStore } from '../lib';
import type { ChildReply, ChildRequest } from './process';
import { deleteKeys } from './servers/common';
import { BenchDb } from './servers/sql';
import type { Item } from './servers/types';

export interface StoreJob {
  kind: 'store';
  redisUrl: string;
  prefix: string;
  sku: string;
  calls: number;
  concurrency: number;
  maxSec: number;
  /** Run a few thousand calls on another key first. */
  warmup: boolean;
  /** The store's `waitReplicas`: 0 (the default) sends no WAIT. */
  waitReplicas: number;
}

export interface FlashDataJob {
  kind: 'flash-data';
  variant: 'gate' | 'mysql-row';
  redisUrl: string;
  mysqlUrl: string;
  poolMax: number;
  prefix: string;
  sku: string;
  units: number;
  attempts: number;
  concurrency: number;
  maxSec: number;
}

export type DataJob = StoreJob | FlashDataJob;

export interface DataJobResult {
  elapsedSec: number;
  calls: number;
  sold: number;
  rejected: number;
  errors: number;
  /** Latency of each call in ms, rounded to 0.1 µs. */
  latencies: number[];
  /** Database transactions run during the measured part. */
  dbTransactions: number;
  oversold: number;
  notes: string[];
  /** store: the sha of the reserve script as ioredis sends it (EVALSHA). */
  scriptSha?: string;
  /** store: `error` events of operation `replicate` (WAIT saw too few replicas in time) in the measured part. */
  replicateErrors?: number;
}

/**
 * Runs `attempt` from `concurrency` callers until `total` calls are made or
 * `maxSec` has passed, timing each call.
 */
async function hammer(
  total: number,
  concurrency: number,
  maxSec: number,
  attempt: () => Promise<'sold' | 'rejected'>,
): Promise<Pick<DataJobResult, 'elapsedSec' | 'calls' | 'sold' | 'rejected' | 'errors' | 'latencies'>> {
  const latencies = new Float64Array(total);
  let issued = 0;
  let sold = 0;
  let rejected = 0;
  let errors = 0;
  const started = performance.now();
  const deadline = started + maxSec * 1000;
  const caller = async (): Promise<void> => {
    while (issued < total && performance.now() < deadline) {
      const index = issued++;
      const t0 = performance.now();
      try {
        if ((await attempt()) === 'sold') sold++;
        else rejected++;
      } catch {
        errors++;
      }
      latencies[index] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const elapsedSec = (performance.now() - started) / 1000;
  const rounded = Array.from(latencies.subarray(0, issued), (ms) => Math.round(ms * 10_000) / 10_000);
  return { elapsedSec, calls: issued, sold, rejected, errors, latencies: rounded };
}

async function runStore(job: StoreJob): Promise<DataJobResult> {
  const redis = new Redis(job.redisUrl);
  let replicateErrors = 0;
  const store = createStockStore({
    redis,
    prefix: job.prefix,
    waitReplicas: job.waitReplicas,
    onEvent: (event) => {
      if (event.type === 'error' && event.operation === 'replicate') replicateErrors++;
    },
  });
  const warmSku = `${job.sku}-warm`;
  // Enough calls for the JIT to settle on the hot path.
  const warmCalls = Math.min(30_000, Math.max(2000, job.calls / 2));
  const initial = job.calls * 2;
  try {
    if (job.warmup) {
      await store.setStock(warmSku, warmCalls * 2, 600);
      await hammer(warmCalls, job.concurrency, job.maxSec, async () => reserveOutcome(store, warmSku));
    }
    await store.setStock(job.sku, initial, 600);
    const replicateErrorsBefore = replicateErrors;
    const run = await hammer(job.calls, job.concurrency, job.maxSec, async () => reserveOutcome(store, job.sku));
    const left = await store.getStock(job.sku);
    const notes: string[] = [];
    if (left !== initial - run.sold) notes.push(`stock left ${left}, expected ${initial - run.sold}`);
    // The sha ioredis sends for the library's reserve script, so that the
    // runner can check that redis-benchmark runs the very same script.
    const scripts = (redis as unknown as { scriptsSet?: Record<string, { sha: string }> }).scriptsSet ?? {};
    const scriptSha = Object.entries(scripts).find(([name]) => name.startsWith('reserveStock:reserveHold:'))?.[1].sha;
    return {
      ...run,
      dbTransactions: 0,
      oversold: Math.max(0, run.sold - initial),
      notes,
      scriptSha,
      replicateErrors: replicateErrors - replicateErrorsBefore,
    };
  } finally {
    await deleteKeys(redis, job.prefix);
    await redis.quit();
  }
}

async function reserveOutcome(store: StockStore, sku: string): Promise<'sold' | 'rejected'> {
  const result = await store.reserve(sku, 1);
  return result.status === 'insufficient' ? 'rejected' : 'sold';
}

async function runFlashData(job: FlashDataJob): Promise<DataJobResult> {
  const db = new BenchDb(job.mysqlUrl, job.poolMax);
  await db.open();
  const redis = new Redis(job.redisUrl);
  const store = createStockStore({ redis, prefix: job.prefix });
  const item: Item = { sku: job.sku, stock: job.units };
  const warm: Item = { sku: `${job.sku}-warm`, stock: Math.max(1, Math.ceil(job.units / 10)) };
  const items = [item, warm];

  const attempt =
    job.variant === 'gate'
      ? async (sku: string): Promise<'sold' | 'rejected'> => {
          const reserved = await store.reserve(sku, 1);
          if (!('holdId' in reserved)) return 'rejected';
          let outcome: 'sold' | 'sold-out';
          try {
            outcome = await db.sellFromRow(sku, 1, 'card');
          } catch (error) {
            await store.release(reserved.holdId);
            throw error;
          }
          await (outcome === 'sold' ? store.commit(reserved.holdId) : store.release(reserved.holdId));
          return outcome === 'sold' ? 'sold' : 'rejected';
        }
      : async (sku: string): Promise<'sold' | 'rejected'> =>
          (await db.sellFromRow(sku, 1, 'card')) === 'sold' ? 'sold' : 'rejected';

  try {
    await db.createProducts(items);
    for (const { sku, stock } of items) await store.setStock(sku, stock, 600);
    // A small flash sale of its own first, at the same attempts per unit, to warm the JIT and the pool.
    await hammer(Math.round((warm.stock * job.attempts) / job.units), job.concurrency, job.maxSec, () => attempt(warm.sku));
    const before = db.transactions;
    const run = await hammer(job.attempts, job.concurrency, job.maxSec, () => attempt(item.sku));
    const dbTransactions = db.transactions - before;
    const audit = await db.audit([item], 'products');
    const notes = [...audit.notes];
    if (audit.sold !== run.sold) notes.push(`${audit.sold} units in the orders, ${run.sold} sales counted`);
    if (run.calls < job.attempts) notes.push(`stopped after ${job.maxSec} s: ${run.calls} of ${job.attempts} attempts`);
    return { ...run, sold: audit.sold, dbTransactions, oversold: audit.oversold, notes };
  } finally {
    await db.cleanup(items).catch(() => {});
    await deleteKeys(redis, job.prefix).catch(() => {});
    await redis.quit();
    await db.close();
  }
}

process.on('message', (message: ChildRequest) => {
  if (message.type === 'stop') {
    process.send?.({ id: message.id, ok: true, result: null } satisfies ChildReply);
    process.disconnect();
    return;
  }
  if (message.type !== 'job') return;
  const job = message.job as DataJob;
  (job.kind === 'store' ? runStore(job) : runFlashData(job)).then(
    (result) => process.send?.({ id: message.id, ok: true, result } satisfies ChildReply),
    (error: unknown) =>
      process.send?.({ id: message.id, ok: false, error: String((error as Error)?.stack ?? error) } satisfies ChildReply),
  );
});
process.on('disconnect', () => setTimeout(() => process.exit(0), 2000).unref());
process.send?.({ id: 0, ok: true, result: null } satisfies ChildReply);

/**
 * The data layer, no HTTP: store.reserve() beside redis-benchmark running
 * the same script, what waitReplicas costs, and the flash sale with and
 * without the gate; each a row of the results. (Redis memory per hold is the
 * script scenario's, ./script.ts, on a server of its own.)
 */
import { profileFlags, type BenchSettings } from './config';
import { DataWorker, mergeRedisBenchmarks, runRedisBenchmark, storeJob, type RedisBenchmarkResult } from './data';
import type { DataJobResult } from './data-main';
import { dataRow, mergeDataResults } from './data-rows';
import { alternateRounds } from './paired-rounds';
import { DATA_ROWS, type RowRun } from './results';
import { runWaitReplicas } from './wait-replicas';

/** The number of steps runDataLayer reports through `step`. */
export const DATA_LAYER_STEPS = 4;

export async function runDataLayer(settings: BenchSettings, runId: string, step: (label: string) => void): Promise<RowRun[]> {
  const out: RowRun[] = [];
  const { store, flashData } = settings;
  const worker = await DataWorker.start(profileFlags(settings, 'data', 'data'));
  try {
    step(`data · store.reserve() and redis-benchmark EVALSHA, ${store.calls.toLocaleString('en-US')} calls each, ${store.concurrency} at a time`);
    const storeRuns: DataJobResult[] = [];
    const benchRuns: RedisBenchmarkResult[] = [];
    const runStore = async (calls: number) => {
      const job = storeJob(settings, runId, 'st', { redisUrl: settings.redisUrl, calls, warmup: storeRuns.length === 0, waitReplicas: 0 });
      storeRuns.push(await worker.run(job));
    };
    const runBenchmark = async (calls: number) => {
      benchRuns.push(
        await runRedisBenchmark({
          redisUrl: settings.redisUrl,
          prefix: `bench:b${runId}rb:`,
          sku: `b${runId}rb`,
          calls,
          concurrency: store.concurrency,
          maxSec: store.maxSec,
        }),
      );
    };
    await alternateRounds(Math.max(1, settings.alternatingRounds), store.calls, [runStore, runBenchmark]);
    const storeRun = mergeDataResults(storeRuns);
    out.push(dataRow(DATA_ROWS.store, storeRun.calls, storeRun));
    const rb = mergeRedisBenchmarks(benchRuns);
    const storeSha = storeRuns[0]?.scriptSha;
    if (storeSha && storeSha !== rb.sha) rb.notes.push(`the store sent script ${storeSha}, redis-benchmark ${rb.sha}`);
    const [scenario, contender] = DATA_ROWS.redisBenchmark;
    out.push({
      row: {
        contender,
        scenario,
        rps: Math.round(rb.rps),
        ...rb.latency,
        sold: rb.reserved,
        rejected: 0,
        errors: rb.calls - rb.reserved,
        oversold: 0,
        dbTxPer1k: 0,
        redisCallsPer1k: null,
      },
      detail: { contender, scenario, p99Reject: null, requests: rb.calls, byStatus: {}, notes: rb.notes },
    });
    out.push(...(await runWaitReplicas(settings, runId, worker, step)));

    const attempts = flashData.units * flashData.attemptsPerUnit;
    for (const variant of ['mysql-row', 'gate'] as const) {
      const name = variant === 'gate' ? DATA_ROWS.flashCheckout : DATA_ROWS.flashMysqlRow;
      step(`${name[0]} · ${name[1]}: ${attempts.toLocaleString('en-US')} attempts for ${flashData.units} units`);
      const code = variant === 'gate' ? 'fg' : 'fm';
      const result = await worker.run({
        kind: 'flash-data',
        variant,
        redisUrl: settings.redisUrl,
        mysqlUrl: settings.mysqlUrl,
        poolMax: flashData.poolMax,
        prefix: `bench:b${runId}${code}:`,
        sku: `b${runId}${code}`,
        units: flashData.units,
        attempts,
        concurrency: flashData.concurrency,
        maxSec: flashData.maxSec,
      });
      out.push(dataRow(name, result.calls, result));
    }
  } finally {
    await worker.stop();
  }
  return out;
}

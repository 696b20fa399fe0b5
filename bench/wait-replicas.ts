/**
 * What `waitReplicas: 1` costs at the data layer: the `store` job against a
 * private master with one replica, with waitReplicas 0 and with 1 in
 * alternating rounds. Both sides run against the same master, so that the
 * difference is the WAIT alone and not the replication stream.
 */
import type { BenchSettings } from './config';
import { storeJob, type DataWorker } from './data';
import type { DataJobResult } from './data-main';
import { dataRow, mergeDataResults } from './data-rows';
import { alternateRounds } from './paired-rounds';
import { ReplicatedRedis } from './replicated-redis';
import { DATA_ROWS, type RowRun } from './results';

/** The two rows, by `waitReplicas`. */
const WAIT_ROWS = { 0: DATA_ROWS.waitNone, 1: DATA_ROWS.wait1 } as const;

interface Side {
  waitReplicas: 0 | 1;
  runs: DataJobResult[];
  /** WAIT commands the master ran during this side's segments. */
  waits: number;
}

export async function runWaitReplicas(
  settings: BenchSettings,
  runId: string,
  worker: DataWorker,
  step: (label: string) => void,
): Promise<RowRun[]> {
  const { calls } = settings.waitReplicas;
  step(
    `data · store.reserve() on a master with one replica, waitReplicas 0 and 1, ` +
      `${calls.toLocaleString('en-US')} calls each, ${settings.store.concurrency} at a time`,
  );
  const redis = await ReplicatedRedis.start();
  try {
    const sides: [Side, Side] = [
      { waitReplicas: 0, runs: [], waits: 0 },
      { waitReplicas: 1, runs: [], waits: 0 },
    ];
    const segment = (side: Side) => async (segmentCalls: number) => {
      const before = await redis.waitCalls();
      // No warm-up: the worker's JIT is warm from the store job, and a warm-up
      // would add WAITs that the check against the reservations cannot tell apart.
      const job = storeJob(settings, runId, `w${side.waitReplicas}`, {
        redisUrl: redis.masterUrl,
        calls: segmentCalls,
        warmup: false,
        waitReplicas: side.waitReplicas,
      });
      side.runs.push(await worker.run(job));
      side.waits += (await redis.waitCalls()) - before;
    };
    await alternateRounds(Math.max(1, settings.alternatingRounds), calls, [segment(sides[0]), segment(sides[1])]);
    return sides.map(sideRow);
  } finally {
    await redis.dispose();
  }
}

function sideRow(side: Side): RowRun {
  const merged = mergeDataResults(side.runs);
  const run = dataRow(WAIT_ROWS[side.waitReplicas], merged.calls, merged);
  const notes = run.detail.notes;
  // One WAIT per reservation that deducted, none without waitReplicas: else
  // the row would not measure what it says.
  const expectedWaits = side.waitReplicas === 0 ? 0 : merged.sold;
  if (side.waits !== expectedWaits) notes.push(`the master ran ${side.waits} WAIT(s) for ${merged.sold} reservations`);
  if (side.waitReplicas > 0) {
    notes.push(
      `replicate error events (the replica did not acknowledge within waitTimeoutMs; the reservation stood): ` +
        `${merged.replicateErrors ?? 0} of ${merged.sold} reservations`,
    );
  }
  return run;
}

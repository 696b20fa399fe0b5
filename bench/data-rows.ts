/** The data layer's job results as rows of the report. */
import type { DataJobResult } from './data-main';
import type { RowContender, RowRun } from './results';
import { per1k, percentiles } from './stats';

export function dataRow([scenario, contender]: readonly [string, RowContender], calls: number, r: DataJobResult): RowRun {
  return {
    row: {
      contender,
      scenario,
      rps: Math.round(calls / r.elapsedSec),
      ...percentiles(r.latencies),
      sold: r.sold,
      rejected: r.rejected,
      errors: r.errors,
      oversold: r.oversold,
      dbTxPer1k: per1k(r.dbTransactions, calls),
      redisCallsPer1k: null,
    },
    detail: { contender, scenario, p99Reject: null, requests: calls, byStatus: {}, notes: r.notes },
  };
}

/** Segments of one data-layer job as one result. */
export function mergeDataResults(runs: DataJobResult[]): DataJobResult {
  const sum = (pick: (r: DataJobResult) => number) => runs.reduce((n, r) => n + pick(r), 0);
  return {
    elapsedSec: sum((r) => r.elapsedSec),
    calls: sum((r) => r.calls),
    sold: sum((r) => r.sold),
    rejected: sum((r) => r.rejected),
    errors: sum((r) => r.errors),
    latencies: runs.flatMap((r) => r.latencies),
    dbTransactions: sum((r) => r.dbTransactions),
    oversold: sum((r) => r.oversold),
    notes: [...new Set(runs.flatMap((r) => r.notes))],
    scriptSha: runs[0]?.scriptSha,
    replicateErrors: sum((r) => r.replicateErrors ?? 0),
  };
}

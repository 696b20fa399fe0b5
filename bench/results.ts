/**
 * What a benchmark run produces, named once: the contenders and scenarios,
 * the rows of the results and their ratios. The runner writes them, the
 * report shows them, and test/bench.test.ts checks a run against them.
 */
/** The HTTP contenders, each a server of its own (./servers/). */
export const CONTENDERS = ['bare', 'gate', 'raw-seed', 'store-route', 'checkout', 'mysql-row', 'mysql-buckets', 'decrby'] as const;
export type Contender = (typeof CONTENDERS)[number];

/** The HTTP scenarios. */
export const SCENARIOS = ['flash', 'steady', 'surge'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The data layer's rows, no HTTP: [scenario, contender]. */
export const DATA_ROWS = {
  /** store.reserve() in one process... */
  store: ['data', 'store'],
  /** ...and redis-benchmark sending the same script at the same concurrency. */
  redisBenchmark: ['data', 'redis-benchmark'],
  /** store.reserve() on a master with one replica, waitReplicas 0... */
  waitNone: ['data', 'store-replica'],
  /** ...and waitReplicas 1. */
  wait1: ['data', 'store-wait1'],
  /** A flash sale: the gate, then the database transaction for winners only... */
  flashCheckout: ['flash-data', 'checkout'],
  /** ...and the transaction for every attempt. */
  flashMysqlRow: ['flash-data', 'mysql-row'],
} as const satisfies Record<string, readonly [string, string]>;

/** Every name a row's `contender` can have. */
export type RowContender = Contender | (typeof DATA_ROWS)[keyof typeof DATA_ROWS][1];

/** One line of the results, as in the issue. Latencies in ms. */
export interface Row {
  contender: RowContender;
  scenario: string;
  /** Requests (or calls, at the data layer) answered per second. */
  rps: number;
  p50: number | null;
  p99: number | null;
  p999: number | null;
  /** Units sold according to the database (or store); null for bare, which sells nothing. */
  sold: number | null;
  /** 409 answers (sold out). */
  rejected: number;
  /** Timeouts, connection errors, 5xx and any other unexpected answer. */
  errors: number;
  /** Units sold beyond the stock, checked in the database afterwards. */
  oversold: number;
  /** Database transactions per 1,000 requests, from the server's own counter. */
  dbTxPer1k: number;
  /**
   * Redis commands per 1,000 requests, from the server's own counter (a
   * script's call is one, whatever it runs inside); null where not measured
   * (the data layer).
   */
  redisCallsPer1k: number | null;
}

/** A row's fields, in the JSON's order. */
export const ROW_KEYS = ['contender', 'scenario', 'rps', 'p50', 'p99', 'p999', 'sold', 'rejected', 'errors', 'oversold', 'dbTxPer1k', 'redisCallsPer1k'] as const satisfies readonly (keyof Row)[];

/** The script scenario's figures (./script.ts): Redis-side µs per call over the article's script's, bytes, the longest reaping call. */
export interface ScriptRatios {
  /** reserveHold-6 deducting / the article's script deducting. */
  reserveOverSeedUs: number | null;
  /** reserveHold-6 deducting under a per-customer limit / the same without one (issue 17). */
  limitOverReserveUs: number | null;
  /** reserveHold-6 sold out, no open hold / the article's script sold out. */
  soldOutOverSeedUs: number | null;
  /** reserveHold-6 sold out, open holds / the article's script sold out. */
  soldOutWithHoldsOverSeedUs: number | null;
  /** settleHold-6 commit / the article's script deducting. */
  commitOverSeedUs: number | null;
  /** settleHold-6 release / the article's script deducting. */
  releaseOverSeedUs: number | null;
  /** Redis used_memory per open hold, bytes. */
  bytesPerOpenHold: number | null;
  /** ... per settled record once its hold's time is over, bytes. */
  bytesPerSettledRecord: number | null;
  /** ... per idempotency record of an order's answer, bytes. */
  bytesPerIdempotencyRecord: number | null;
  /** The longest script call while 200,000 holds of one item that fell due together are given back, ms. */
  longestReapMs: number | null;
}

export const SCRIPT_RATIO_KEYS = [
  'reserveOverSeedUs',
  'limitOverReserveUs',
  'soldOutOverSeedUs',
  'soldOutWithHoldsOverSeedUs',
  'commitOverSeedUs',
  'releaseOverSeedUs',
  'bytesPerOpenHold',
  'bytesPerSettledRecord',
  'bytesPerIdempotencyRecord',
  'longestReapMs',
] as const satisfies readonly (keyof ScriptRatios)[];

export interface Ratios extends ScriptRatios {
  gateOverBare: number | null;
  /** req/s of the gate / of the article's script in a hand-written route, flash sale. */
  gateOverRawSeed: number | null;
  /** The same in the steady scenario. */
  steadyGateOverRawSeed: number | null;
  /** req/s of store.reserve() + commit() in a hand-written route / of the article's script, flash sale. */
  storeRouteOverRawSeed: number | null;
  /** The gate's Redis commands per 1,000 requests in the flash sale. */
  flashRedisCallsPer1k: number | null;
  p99RejectOverBare: number | null;
  flashDbTxMysqlRowOverCheckout: number | null;
  flashDataOverMysqlRow: number | null;
  storeOverRedisBenchmark: number | null;
  /** Errors (timeouts and 5xx) of mysql-row in the surge. */
  surgeErrorsMysqlRow: number | null;
  /** Errors (timeouts and 5xx) of checkout in the surge. */
  surgeErrorsCheckout: number | null;
  /** req/s of store.reserve() with waitReplicas 1 / with 0, both on a master with one replica. */
  waitReplicas1OverNone: number | null;
  /** p50 latency waitReplicas 1 adds, ms. */
  waitReplicas1AddedP50Ms: number | null;
  /** p99 latency waitReplicas 1 adds, ms. */
  waitReplicas1AddedP99Ms: number | null;
}

export const RATIO_KEYS = [
  'gateOverBare',
  'gateOverRawSeed',
  'steadyGateOverRawSeed',
  'storeRouteOverRawSeed',
  'flashRedisCallsPer1k',
  'p99RejectOverBare',
  'flashDbTxMysqlRowOverCheckout',
  'flashDataOverMysqlRow',
  'storeOverRedisBenchmark',
  'surgeErrorsMysqlRow',
  'surgeErrorsCheckout',
  'waitReplicas1OverNone',
  'waitReplicas1AddedP50Ms',
  'waitReplicas1AddedP99Ms',
  ...SCRIPT_RATIO_KEYS,
] as const satisfies readonly (keyof Ratios)[];

export interface BenchResults {
  machine: { cores: number; node: string; redis: string; mariadb: string };
  rows: Row[];
  ratios: Ratios;
}

/** What the report shows beside the rows. */
export interface RunDetail {
  contender: RowContender;
  scenario: string;
  /** p99 of the 409 answers alone, ms. */
  p99Reject: number | null;
  requests: number;
  byStatus: Record<number, number>;
  rssBefore?: number;
  rssAfter?: number;
  notes: string[];
}

/** A row of the results and what the report shows beside it. */
export interface RowRun {
  row: Row;
  detail: RunDetail;
}


/** The JSON of the issue: machine, rows (their fields only, in order), ratios, nothing else. */
export function toJson(results: BenchResults): string {
  const rows = results.rows.map((r) => Object.fromEntries(ROW_KEYS.map((key) => [key, r[key]])));
  return `${JSON.stringify({ machine: results.machine, rows, ratios: results.ratios }, null, 2)}\n`;
}

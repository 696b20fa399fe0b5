/** The ratios of a run, from its rows: what the aims are checked against. */
import { DATA_ROWS, type Ratios, type Row, type RowContender, type RunDetail } from './results';
import type { ScriptReport } from './script';
import { scriptRatios } from './script-report';
import { round3 } from './stats';

export function computeRatios(rows: Row[], details: RunDetail[], script?: ScriptReport): Ratios {
  const row = (contender: RowContender, scenario: string) => rows.find((r) => r.contender === contender && r.scenario === scenario);
  const dataRow = ([scenario, contender]: readonly [string, RowContender]) => row(contender, scenario);
  const known = (x: number | null | undefined): x is number => x !== null && x !== undefined;
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (known(a) && known(b) && b !== 0 ? round3(a / b) : null);
  const added = (a: number | null | undefined, b: number | null | undefined) => (known(a) && known(b) ? round3(a - b) : null);
  const waitNone = dataRow(DATA_ROWS.waitNone);
  const wait1 = dataRow(DATA_ROWS.wait1);
  const gateReject = details.find((d) => d.contender === 'gate' && d.scenario === 'flash')?.p99Reject;
  return {
    gateOverBare: ratio(row('gate', 'flash')?.rps, row('bare', 'flash')?.rps),
    gateOverRawSeed: ratio(row('gate', 'flash')?.rps, row('raw-seed', 'flash')?.rps),
    steadyGateOverRawSeed: ratio(row('gate', 'steady')?.rps, row('raw-seed', 'steady')?.rps),
    storeRouteOverRawSeed: ratio(row('store-route', 'flash')?.rps, row('raw-seed', 'flash')?.rps),
    flashRedisCallsPer1k: row('gate', 'flash')?.redisCallsPer1k ?? null,
    p99RejectOverBare: ratio(gateReject, row('bare', 'flash')?.p99),
    flashDbTxMysqlRowOverCheckout: ratio(row('mysql-row', 'flash')?.dbTxPer1k, row('checkout', 'flash')?.dbTxPer1k),
    flashDataOverMysqlRow: ratio(dataRow(DATA_ROWS.flashCheckout)?.rps, dataRow(DATA_ROWS.flashMysqlRow)?.rps),
    storeOverRedisBenchmark: ratio(dataRow(DATA_ROWS.store)?.rps, dataRow(DATA_ROWS.redisBenchmark)?.rps),
    surgeErrorsMysqlRow: row('mysql-row', 'surge')?.errors ?? null,
    surgeErrorsCheckout: row('checkout', 'surge')?.errors ?? null,
    waitReplicas1OverNone: ratio(wait1?.rps, waitNone?.rps),
    waitReplicas1AddedP50Ms: added(wait1?.p50, waitNone?.p50),
    waitReplicas1AddedP99Ms: added(wait1?.p99, waitNone?.p99),
    ...scriptRatios(script),
  };
}

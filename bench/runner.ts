/**
 * Runs the whole benchmark in one session: every contender over HTTP in each
 * scenario, each in a fresh server process against fresh products, then the
 * data layer; audits every run in the database; computes the ratios.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import type { BenchSettings, Contender, Scenario } from './config';
import { DataWorker, runRedisBenchmark } from './data';
import { runLoad, type LoadResult } from './load';
import { Child, type ServerStats } from './process';
import type { Audit, Item, ServerConfig } from './servers/types';
import { percentiles, round3 } from './stats';

/** One line of the results, as in the issue. Latencies in ms. */
export interface Row {
  contender: string;
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
}

export interface Ratios {
  gateOverBare: number | null;
  p99RejectOverBare: number | null;
  flashDbTxMysqlRowOverCheckout: number | null;
  flashDataOverMysqlRow: number | null;
  storeOverRedisBenchmark: number | null;
  /** Errors (timeouts and 5xx) of mysql-row in the surge. */
  surgeErrorsMysqlRow: number | null;
  /** Errors (timeouts and 5xx) of checkout in the surge. */
  surgeErrorsCheckout: number | null;
}

export interface BenchResults {
  machine: { cores: number; node: string; redis: string; mariadb: string };
  rows: Row[];
  ratios: Ratios;
}

/** What the report shows beside the rows. */
export interface RunDetail {
  contender: string;
  scenario: string;
  /** p99 of the 409 answers alone, ms. */
  p99Reject: number | null;
  requests: number;
  byStatus: Record<number, number>;
  rssBefore?: number;
  rssAfter?: number;
  notes: string[];
}

export interface BenchReport {
  results: BenchResults;
  details: RunDetail[];
  settings: BenchSettings;
  startedAt: string;
  elapsedSec: number;
}

export interface Reporter {
  /** A transient status line (rewritten in place on a terminal). */
  progress(line: string): void;
  /** A line that stays. */
  log(line: string): void;
}

export const silentReporter: Reporter = { progress: () => {}, log: () => {} };

const SHORT: Record<string, string> = {
  bare: 'ba',
  gate: 'ga',
  checkout: 'co',
  'mysql-row': 'mr',
  'mysql-buckets': 'mb',
  decrby: 'dc',
  flash: 'f',
  steady: 's',
  surge: 'u',
};

const orderBody = (sku: string) => JSON.stringify({ sku, qty: 1, payment: 'card' });

export async function runBench(settings: BenchSettings, reporter: Reporter = silentReporter): Promise<BenchReport> {
  const started = Date.now();
  const runId = `${started.toString(36)}${randomBytes(2).toString('hex')}`;
  const rows: Row[] = [];
  const details: RunDetail[] = [];
  const machine = await machineInfo(settings);
  const httpRuns = settings.runScenarios.flatMap((scenario) => settings.contenders.map((contender) => ({ scenario, contender })));
  const steps = httpRuns.length + (settings.dataLayer ? 4 : 0);
  let step = 0;

  const restoreConnections = await ensureMaxConnections(
    settings,
    Math.max(...settings.runScenarios.map((s) => settings.scenarios[s].poolMax), settings.flashData.poolMax) + 100,
    reporter,
  );
  const measure = async (child: Child, contender: Contender, scenario: Scenario) => {
    step++;
    const t0 = Date.now();
    const { row, detail } = await runHttp(child, settings, runId, contender, scenario, (line) =>
      reporter.progress(`[${step}/${steps}] ${line}`),
    );
    rows.push(row);
    details.push(detail);
    const notes = detail.notes.length ? `  (${detail.notes.join('; ')})` : '';
    reporter.log(`[${step}/${steps}] ${summary(row)}${notes}  [${((Date.now() - t0) / 1000).toFixed(1)} s]`);
  };
  try {
    if (settings.reuseServers) {
      // One process per contender for all scenarios (the smoke run: fewer starts).
      const poolMax = Math.max(...settings.runScenarios.map((s) => settings.scenarios[s].poolMax));
      for (const contender of settings.contenders) {
        const child = startServer(settings, runId, contender, poolMax, `b${runId}${SHORT[contender]}`, contender);
        try {
          for (const scenario of settings.runScenarios) await measure(child, contender, scenario);
        } finally {
          await child.stop();
        }
      }
    } else {
      // A fresh process for every contender and scenario.
      for (const { scenario, contender } of httpRuns) {
        const tag = `b${runId}${SHORT[scenario]}${SHORT[contender]}`;
        const child = startServer(settings, runId, contender, settings.scenarios[scenario].poolMax, tag, `${contender}-${scenario}`);
        try {
          await measure(child, contender, scenario);
        } finally {
          await child.stop();
        }
      }
    }
    if (settings.dataLayer) {
      for (const { row, detail } of await runDataLayer(settings, runId, (label) => {
        step++;
        reporter.progress(`[${step}/${steps}] ${label}`);
      })) {
        rows.push(row);
        details.push(detail);
        reporter.log(`      ${summary(row)}${detail.notes.length ? `  (${detail.notes.join('; ')})` : ''}`);
      }
    }
  } finally {
    await restoreConnections();
  }
  // HTTP rows by scenario, then contender; the data layer after, as run.
  const order = (r: Row, index: number) => {
    const s = (settings.runScenarios as readonly string[]).indexOf(r.scenario);
    const c = (settings.contenders as readonly string[]).indexOf(r.contender);
    return s < 0 ? 10_000 + index : s * 100 + c;
  };
  const sorted = rows.map((row, index) => ({ row, key: order(row, index) })).sort((a, b) => a.key - b.key);
  rows.splice(0, rows.length, ...sorted.map((x) => x.row));
  return {
    results: { machine, rows, ratios: computeRatios(rows, details) },
    details,
    settings,
    startedAt: new Date(started).toISOString(),
    elapsedSec: Math.round((Date.now() - started) / 100) / 10,
  };
}

function summary(row: Row): string {
  const fmt = (x: number | null) => (x === null ? '-' : String(x));
  return (
    `${row.scenario} · ${row.contender}: ${Math.round(row.rps)}/s, p50 ${fmt(row.p50)} p99 ${fmt(row.p99)} ms, ` +
    `sold ${fmt(row.sold)}, 409 ${row.rejected}, errors ${row.errors}, oversold ${row.oversold}, tx/1k ${row.dbTxPer1k}`
  );
}

function startServer(settings: BenchSettings, runId: string, contender: Contender, poolMax: number, tag: string, profileName: string): Child {
  const config: ServerConfig = {
    runId,
    redisUrl: settings.redisUrl,
    mysqlUrl: settings.mysqlUrl,
    poolMax,
    prefix: `bench:${tag}:`,
  };
  return Child.start({
    entry: 'server-main.ts',
    env: { BENCH_CONTENDER: contender, BENCH_SERVER_CONFIG: JSON.stringify(config) },
    execArgv: profileFlags(settings, contender, profileName),
  });
}

/** One contender in one scenario: prepare, warm up, load, drain, audit, clean up. */
async function runHttp(
  child: Child,
  settings: BenchSettings,
  runId: string,
  contender: Contender,
  scenario: Scenario,
  progress: (line: string) => void,
): Promise<{ row: Row; detail: RunDetail }> {
  const sc = settings.scenarios[scenario];
  const tag = `b${runId}${SHORT[scenario]}${SHORT[contender]}`;
  const items: Item[] = Array.from({ length: sc.skus }, (_, i) => ({ sku: `${tag}-${i}`, stock: sc.stock }));
  const warm: Item = { sku: `${tag}-warm`, stock: 100 };
  const label = `${scenario} · ${contender}`;
  const phase = (text: string) => {
    trace(text);
    progress(text);
  };
  const notes: string[] = [];
  try {
    const { port } = (await child.ready) as { port: number };
    phase(`${label}: preparing ${items.length} item(s)`);
    await child.request({ type: 'prepare', items: [...items, warm] });
    if (settings.warmupSec > 0) {
      phase(`${label}: warming up`);
      await runLoad({
        port,
        connections: sc.connections,
        durationSec: settings.warmupSec,
        timeoutSec: settings.requestTimeoutSec,
        bodies: [orderBody(warm.sku)],
      });
      await drain(child, settings.drainTimeoutMs);
    }
    const before = await child.request<ServerStats>({ type: 'stats' });
    const load = await runLoad({
      port,
      connections: sc.connections,
      durationSec: sc.durationSec,
      timeoutSec: settings.requestTimeoutSec,
      bodies: items.map((i) => orderBody(i.sku)),
      onTick: (elapsed, responses) =>
        progress(
          `${label}: ${elapsed.toFixed(1)}/${sc.durationSec} s, ${responses.toLocaleString('en-US')} responses, ` +
            `${Math.round(responses / Math.max(elapsed, 0.001)).toLocaleString('en-US')}/s`,
        ),
    });
    phase(`${label}: draining`);
    if (!(await drain(child, settings.drainTimeoutMs))) notes.push(`still busy ${settings.drainTimeoutMs / 1000} s after the load`);
    const after = await child.request<ServerStats>({ type: 'stats' });
    phase(`${label}: auditing`);
    const audit = await child.request<Audit>({ type: 'audit', items });
    notes.push(...audit.notes);
    return {
      row: httpRow(contender, scenario, load, before, after, audit, notes),
      detail: {
        contender,
        scenario,
        p99Reject: percentiles(load.latency.rejected).p99,
        requests: load.responses + load.errors,
        byStatus: load.byStatus,
        rssBefore: before.rss,
        rssAfter: after.rss,
        notes,
      },
    };
  } finally {
    await child.request({ type: 'cleanup', items: [...items, warm] }).catch((error: unknown) => {
      notes.push(`cleanup failed: ${(error as Error).message.split('\n')[0]}`);
    });
  }
}

function httpRow(
  contender: string,
  scenario: string,
  load: LoadResult,
  before: ServerStats,
  after: ServerStats,
  audit: Audit,
  notes: string[],
): Row {
  let unexpected = 0;
  let serverErrors = 0;
  for (const [status, count] of Object.entries(load.byStatus)) {
    const code = Number(status);
    if (code >= 500) serverErrors += count;
    else if (code !== 201 && code !== 409) {
      unexpected += count;
      notes.push(`${count} answer(s) ${code}`);
    }
  }
  if (load.timeouts > 0) notes.push(`${load.timeouts} timeout(s)`);
  // Requests the server received (its own counter): those still in flight
  // when the load stopped ran their transactions too.
  const requests = after.requests - before.requests;
  const lat = percentiles(load.latency.all);
  return {
    contender,
    scenario,
    rps: Math.round(load.responses / load.elapsedSec),
    ...lat,
    sold: audit.sold,
    rejected: load.byStatus[409] ?? 0,
    errors: load.errors + serverErrors + unexpected,
    oversold: audit.oversold,
    dbTxPer1k: requests > 0 ? Math.round(((after.dbTransactions - before.dbTransactions) / requests) * 10_000) / 10 : 0,
  };
}

/** Waits until the server has no request in flight and no database work; false on timeout. */
async function drain(child: Child, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await child.request<ServerStats>({ type: 'stats' });
    if (stats.inFlight === 0 && stats.busy === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function profileFlags(settings: BenchSettings, contender: string, name: string): string[] {
  if (settings.profile !== contender) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${resolve(settings.profileDir)}`, `--cpu-prof-name=${name}.cpuprofile`];
}

async function runDataLayer(
  settings: BenchSettings,
  runId: string,
  step: (label: string) => void,
): Promise<{ row: Row; detail: RunDetail }[]> {
  const out: { row: Row; detail: RunDetail }[] = [];
  const { store, flashData } = settings;
  const worker = await DataWorker.start(profileFlags(settings, 'data', 'data'));
  try {
    step(`data · store.reserve(), ${store.calls.toLocaleString('en-US')} calls from ${store.concurrency} callers`);
    const storeRun = await worker.run({
      kind: 'store',
      redisUrl: settings.redisUrl,
      prefix: `bench:b${runId}st:`,
      sku: `b${runId}st`,
      calls: store.calls,
      concurrency: store.concurrency,
      maxSec: store.maxSec,
    });
    out.push(dataRow('store', 'data', storeRun.calls, storeRun));

    step(`data · redis-benchmark EVALSHA, -n ${store.calls} -c ${store.concurrency}`);
    const rb = await runRedisBenchmark({
      redisUrl: settings.redisUrl,
      key: `bench:b${runId}rb:{k}`,
      calls: store.calls,
      concurrency: store.concurrency,
      maxSec: store.maxSec,
    });
    if (storeRun.scriptSha && storeRun.scriptSha !== rb.sha) {
      rb.notes.push(`the store sent script ${storeRun.scriptSha}, redis-benchmark ${rb.sha}`);
    }
    out.push({
      row: {
        contender: 'redis-benchmark',
        scenario: 'data',
        rps: Math.round(rb.rps),
        ...rb.latency,
        sold: rb.reserved,
        rejected: 0,
        errors: rb.calls - rb.reserved,
        oversold: 0,
        dbTxPer1k: 0,
      },
      detail: { contender: 'redis-benchmark', scenario: 'data', p99Reject: null, requests: rb.calls, byStatus: {}, notes: rb.notes },
    });

    const attempts = flashData.units * flashData.attemptsPerUnit;
    for (const variant of ['mysql-row', 'gate'] as const) {
      const contender = variant === 'gate' ? 'checkout' : 'mysql-row';
      step(`flash-data · ${contender}: ${attempts.toLocaleString('en-US')} attempts for ${flashData.units} units`);
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
      out.push(dataRow(contender, 'flash-data', result.calls, result));
    }
  } finally {
    await worker.stop();
  }
  return out;
}

function dataRow(
  contender: string,
  scenario: string,
  calls: number,
  r: { elapsedSec: number; sold: number; rejected: number; errors: number; oversold: number; dbTransactions: number; notes: string[]; latency: { p50: number | null; p99: number | null; p999: number | null } },
): { row: Row; detail: RunDetail } {
  return {
    row: {
      contender,
      scenario,
      rps: Math.round(calls / r.elapsedSec),
      ...r.latency,
      sold: r.sold,
      rejected: r.rejected,
      errors: r.errors,
      oversold: r.oversold,
      dbTxPer1k: calls > 0 ? Math.round((r.dbTransactions / calls) * 10_000) / 10 : 0,
    },
    detail: { contender, scenario, p99Reject: null, requests: calls, byStatus: {}, notes: r.notes },
  };
}

export function computeRatios(rows: Row[], details: RunDetail[]): Ratios {
  const row = (contender: string, scenario: string) => rows.find((r) => r.contender === contender && r.scenario === scenario);
  const ratio = (a: number | null | undefined, b: number | null | undefined) =>
    a === null || a === undefined || b === null || b === undefined || b === 0 ? null : round3(a / b);
  const gateReject = details.find((d) => d.contender === 'gate' && d.scenario === 'flash')?.p99Reject;
  return {
    gateOverBare: ratio(row('gate', 'flash')?.rps, row('bare', 'flash')?.rps),
    p99RejectOverBare: ratio(gateReject, row('bare', 'flash')?.p99),
    flashDbTxMysqlRowOverCheckout: ratio(row('mysql-row', 'flash')?.dbTxPer1k, row('checkout', 'flash')?.dbTxPer1k),
    flashDataOverMysqlRow: ratio(row('checkout', 'flash-data')?.rps, row('mysql-row', 'flash-data')?.rps),
    storeOverRedisBenchmark: ratio(row('store', 'data')?.rps, row('redis-benchmark', 'data')?.rps),
    surgeErrorsMysqlRow: row('mysql-row', 'surge')?.errors ?? null,
    surgeErrorsCheckout: row('checkout', 'surge')?.errors ?? null,
  };
}

async function machineInfo(settings: BenchSettings): Promise<BenchResults['machine']> {
  const redis = new Redis(settings.redisUrl);
  let redisVersion = 'unknown';
  try {
    redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
  } finally {
    await redis.quit();
  }
  const conn = await mysql.createConnection(settings.mysqlUrl);
  try {
    const [rows] = await conn.query('SELECT VERSION() AS v');
    return { cores: cpus().length, node: process.version, redis: redisVersion, mariadb: String((rows as { v: string }[])[0]?.v) };
  } finally {
    await conn.end();
  }
}

/**
 * The surge needs a pool of hundreds of connections; MariaDB's default
 * max_connections (151) would make the server, not the row lock, the queue.
 * Raises it for the run when needed and returns what puts it back.
 */
async function ensureMaxConnections(settings: BenchSettings, needed: number, reporter: Reporter): Promise<() => Promise<void>> {
  const conn = await mysql.createConnection(settings.mysqlUrl);
  try {
    const [rows] = await conn.query('SELECT @@GLOBAL.max_connections AS n');
    const current = Number((rows as { n: number }[])[0]?.n);
    if (current >= needed) return async () => {};
    await conn.query('SET GLOBAL max_connections = ?', [needed]);
    reporter.log(`MariaDB max_connections ${current} -> ${needed} for this run`);
    return async () => {
      const again = await mysql.createConnection(settings.mysqlUrl);
      try {
        await again.query('SET GLOBAL max_connections = ?', [current]);
      } finally {
        await again.end();
      }
    };
  } finally {
    await conn.end();
  }
}

export const resultsPaths = (outDir: string) => ({
  json: join(outDir, 'latest.json'),
  md: join(outDir, 'latest.md'),
  svg: join(outDir, 'chart.svg'),
});

const T0 = Date.now();

/** BENCH_TRACE=1: phase timestamps on stderr, to see where a run's time goes. */
function trace(what: string): void {
  if (process.env.BENCH_TRACE) process.stderr.write(`\n${Date.now() - T0} ms: ${what}\n`);
}

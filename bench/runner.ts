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
import { DataWorker, measureHoldMemory, mergeRedisBenchmarks, runRedisBenchmark, storeJob, type RedisBenchmarkResult } from './data';

/** Open holds made to measure Redis memory per hold. */
const HOLDS_MEASURED = 10_000;
import type { DataJobResult } from './data-main';
import { dataRow, mergeDataResults, type DataRun } from './data-rows';
import { runLoad, type LoadResult } from './load';
import { Child, type ServerStats } from './process';
import type { Audit, Item, ServerConfig } from './servers/types';
import { alternateRounds } from './paired-rounds';
import { percentiles, round3 } from './stats';
import { runWaitReplicas, WAIT_CONTENDERS } from './wait-replicas';

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
  /** req/s of store.reserve() with waitReplicas 1 / with 0, both on a master with one replica. */
  waitReplicas1OverNone: number | null;
  /** p50 latency waitReplicas 1 adds, ms. */
  waitReplicas1AddedP50Ms: number | null;
  /** p99 latency waitReplicas 1 adds, ms. */
  waitReplicas1AddedP99Ms: number | null;
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
  /** data/store: Redis used_memory per open hold, bytes. */
  bytesPerHold?: number;
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

/** Loaded in alternating segments when `pairedRounds` > 1. */
const PAIRED: Contender[] = ['bare', 'gate'];

const orderBody = (sku: string) => JSON.stringify({ sku, qty: 1, payment: 'card' });

export async function runBench(settings: BenchSettings, reporter: Reporter = silentReporter): Promise<BenchReport> {
  const started = Date.now();
  const runId = `${started.toString(36)}${randomBytes(2).toString('hex')}`;
  const rows: Row[] = [];
  const details: RunDetail[] = [];
  const machine = await machineInfo(settings);
  const httpRuns = settings.runScenarios.flatMap((scenario) => settings.contenders.map((contender) => ({ scenario, contender })));
  // The data layer's steps: store with redis-benchmark, hold memory, waitReplicas, two flash sales.
  const steps = httpRuns.length + (settings.dataLayer ? 5 : 0);
  let step = 0;

  // Room for the largest pool, plus the few connections of the audit and of anyone else.
  const limit = new ConnectionLimit(
    settings.mysqlUrl,
    Math.max(...settings.runScenarios.map((s) => settings.scenarios[s].poolMax), settings.flashData.poolMax) + 30,
    reporter,
  );
  await limit.ensure();
  const finish = async (run: HttpRun) => {
    step++;
    const { row, detail } = await closeRun(run, settings, (line) => reporter.progress(`[${step}/${steps}] ${line}`));
    rows.push(row);
    details.push(detail);
    const notes = detail.notes.length ? `  (${detail.notes.join('; ')})` : '';
    reporter.log(`[${step}/${steps}] ${summary(row)}${notes}  [${((Date.now() - run.openedAt) / 1000).toFixed(1)} s]`);
  };
  const progress = (line: string) => reporter.progress(`[${step + 1}/${steps}] ${line}`);
  try {
    if (settings.reuseServers) {
      // One process per contender for all scenarios (the smoke run: fewer starts).
      const poolMax = Math.max(...settings.runScenarios.map((s) => settings.scenarios[s].poolMax));
      for (const contender of settings.contenders) {
        await limit.ensure();
        const child = startServer(settings, runId, contender, poolMax, `b${runId}${SHORT[contender]}`, contender);
        try {
          for (const scenario of settings.runScenarios) {
            const run = await openRun(child, settings, runId, contender, scenario, progress);
            try {
              await loadSegment(run, settings, settings.scenarios[scenario].durationSec, progress);
            } finally {
              await finish(run);
            }
          }
        } finally {
          await child.stop();
        }
      }
    } else {
      // A fresh process for every contender and scenario. bare and gate,
      // whose ratio is the closest call, are loaded in alternating segments
      // (A B B A ...) so that the machine's drifting load falls on both alike.
      for (const scenario of settings.runScenarios) {
        const sc = settings.scenarios[scenario];
        const paired = settings.pairedRounds > 1 ? PAIRED.filter((c) => settings.contenders.includes(c)) : [];
        const groups: Contender[][] =
          paired.length === 2
            ? [paired, ...settings.contenders.filter((c) => !paired.includes(c)).map((c) => [c])]
            : settings.contenders.map((c) => [c]);
        for (const group of groups) {
          await limit.ensure();
          const children = group.map((contender) =>
            startServer(settings, runId, contender, sc.poolMax, `b${runId}${SHORT[scenario]}${SHORT[contender]}`, `${contender}-${scenario}`),
          );
          const runs: HttpRun[] = [];
          try {
            for (const [i, contender] of group.entries()) {
              runs.push(await openRun(children[i] as Child, settings, runId, contender, scenario, progress));
            }
            const rounds = runs.length > 1 ? roundsFor(sc.durationSec, settings.pairedRounds) : 1;
            const seconds = sc.durationSec / rounds;
            for (let r = 0; r < rounds; r++) {
              for (const run of r % 2 === 0 ? runs : [...runs].reverse()) await loadSegment(run, settings, seconds, progress);
            }
          } finally {
            await finishAll(runs, finish, children);
          }
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
    await limit.restore();
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

/** One contender in one scenario, measured in one or more load segments. */
interface HttpRun {
  child: Child;
  contender: Contender;
  scenario: Scenario;
  port: number;
  items: Item[];
  warm: Item;
  label: string;
  notes: string[];
  openedAt: number;
  before?: ServerStats;
  load?: LoadResult;
}

/** The most rounds, up to `max`, that split `seconds` into whole seconds (autocannon's unit). */
export function roundsFor(seconds: number, max: number): number {
  for (let r = Math.min(max, seconds); r > 1; r--) if (Number.isInteger(seconds / r)) return r;
  return 1;
}

/** Closes every run (audit, cleanup) and stops every child, whatever fails; then throws the first failure. */
async function finishAll(runs: HttpRun[], finish: (run: HttpRun) => Promise<void>, children: Child[]): Promise<void> {
  let failure: unknown;
  for (const run of runs) await finish(run).catch((error: unknown) => (failure ??= error));
  for (const child of children) await child.stop();
  if (failure !== undefined) throw failure;
}

/** Starts a run: the server ready, its items created, a warm-up on another sku, the counters read. */
async function openRun(
  child: Child,
  settings: BenchSettings,
  runId: string,
  contender: Contender,
  scenario: Scenario,
  progress: (line: string) => void,
): Promise<HttpRun> {
  const openedAt = Date.now();
  const sc = settings.scenarios[scenario];
  const tag = `b${runId}${SHORT[scenario]}${SHORT[contender]}`;
  const items: Item[] = Array.from({ length: sc.skus }, (_, i) => ({ sku: `${tag}-${i}`, stock: sc.stock }));
  const warm: Item = { sku: `${tag}-warm`, stock: 100 };
  const label = `${scenario} · ${contender}`;
  const { port } = (await child.ready) as { port: number };
  const run: HttpRun = { child, contender, scenario, port, items, warm, label, notes: [], openedAt };
  phase(progress, `${label}: preparing ${items.length} item(s)`);
  await child.request({ type: 'prepare', items: [...items, warm] });
  if (settings.warmupSec > 0) {
    phase(progress, `${label}: warming up`);
    await runLoad({
      port,
      connections: sc.connections,
      durationSec: settings.warmupSec,
      timeoutSec: settings.requestTimeoutSec,
      bodies: [orderBody(warm.sku)],
    });
    await drain(child, settings.drainTimeoutMs);
  }
  run.before = await child.request<ServerStats>({ type: 'stats' });
  return run;
}

/** Loads the run's items for `seconds`, then waits for the server to finish what it received. */
async function loadSegment(run: HttpRun, settings: BenchSettings, seconds: number, progress: (line: string) => void): Promise<void> {
  const sc = settings.scenarios[run.scenario];
  const done = run.load?.elapsedSec ?? 0;
  trace(`${run.label}: load ${seconds} s`);
  const load = await runLoad({
    port: run.port,
    connections: sc.connections,
    durationSec: seconds,
    timeoutSec: settings.requestTimeoutSec,
    bodies: run.items.map((i) => orderBody(i.sku)),
    onTick: (elapsed, responses) =>
      progress(
        `${run.label}: ${(done + elapsed).toFixed(1)}/${sc.durationSec} s, ${responses.toLocaleString('en-US')} responses, ` +
          `${Math.round(responses / Math.max(elapsed, 0.001)).toLocaleString('en-US')}/s`,
      ),
  });
  run.load = run.load ? mergeLoads(run.load, load) : load;
  phase(progress, `${run.label}: draining`);
  if (!(await drain(run.child, settings.drainTimeoutMs))) {
    run.notes.push(`still busy ${settings.drainTimeoutMs / 1000} s after the load`);
  }
}

function mergeLoads(a: LoadResult, b: LoadResult): LoadResult {
  const byStatus = { ...a.byStatus };
  for (const [status, count] of Object.entries(b.byStatus)) byStatus[Number(status)] = (byStatus[Number(status)] ?? 0) + count;
  return {
    elapsedSec: a.elapsedSec + b.elapsedSec,
    responses: a.responses + b.responses,
    byStatus,
    errors: a.errors + b.errors,
    timeouts: a.timeouts + b.timeouts,
    latency: {
      all: a.latency.all.concat(b.latency.all),
      created: a.latency.created.concat(b.latency.created),
      rejected: a.latency.rejected.concat(b.latency.rejected),
    },
  };
}

/** Ends a run: counters read, the sale audited in the database, the items removed. */
async function closeRun(
  run: HttpRun,
  settings: BenchSettings,
  progress: (line: string) => void,
): Promise<{ row: Row; detail: RunDetail }> {
  const { child, contender, scenario, items, warm, label, notes } = run;
  try {
    if (!run.before || !run.load) throw new Error(`${label}: the run did not start`);
    const after = await child.request<ServerStats>({ type: 'stats' });
    phase(progress, `${label}: auditing`);
    const audit = await child.request<Audit>({ type: 'audit', items });
    notes.push(...audit.notes);
    return {
      row: httpRow(contender, scenario, run.load, run.before, after, audit, notes),
      detail: {
        contender,
        scenario,
        p99Reject: percentiles(run.load.latency.rejected).p99,
        requests: after.requests - run.before.requests,
        byStatus: run.load.byStatus,
        rssBefore: run.before.rss,
        rssAfter: after.rss,
        notes,
      },
    };
  } finally {
    await child.request({ type: 'cleanup', items: [...items, warm] }, settings.drainTimeoutMs + 60_000).catch((error: unknown) => {
      notes.push(`cleanup failed: ${(error as Error).message.split('\n')[0]}`);
    });
  }
}

function phase(progress: (line: string) => void, text: string): void {
  trace(text);
  progress(text);
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

/**
 * Waits until the server has no open connection, no request in flight and
 * no database work; false on timeout.
 */
async function drain(child: Child, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await child.request<ServerStats>({ type: 'stats' });
    if (stats.connections === 0 && stats.inFlight === 0 && stats.busy === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function profileFlags(settings: BenchSettings, contender: string, name: string): string[] {
  if (settings.profile !== contender) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${resolve(settings.profileDir)}`, `--cpu-prof-name=${name}.cpuprofile`];
}

async function runDataLayer(settings: BenchSettings, runId: string, step: (label: string) => void): Promise<DataRun[]> {
  const out: DataRun[] = [];
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
    await alternateRounds(Math.max(1, settings.pairedRounds), store.calls, [runStore, runBenchmark]);
    const storeRun = mergeDataResults(storeRuns);
    const storeRow = dataRow('store', 'data', storeRun.calls, storeRun);
    step(`data · Redis memory of ${HOLDS_MEASURED.toLocaleString('en-US')} open holds`);
    storeRow.detail.bytesPerHold = await measureHoldMemory(settings.redisUrl, `bench:b${runId}mem:`, `b${runId}mem`, HOLDS_MEASURED);
    out.push(storeRow);
    const rb = mergeRedisBenchmarks(benchRuns);
    const storeSha = storeRuns[0]?.scriptSha;
    if (storeSha && storeSha !== rb.sha) rb.notes.push(`the store sent script ${storeSha}, redis-benchmark ${rb.sha}`);
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
    out.push(...(await runWaitReplicas(settings, runId, worker, step)));

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

export function computeRatios(rows: Row[], details: RunDetail[]): Ratios {
  const row = (contender: string, scenario: string) => rows.find((r) => r.contender === contender && r.scenario === scenario);
  const known = (x: number | null | undefined): x is number => x !== null && x !== undefined;
  const ratio = (a: number | null | undefined, b: number | null | undefined) => (known(a) && known(b) && b !== 0 ? round3(a / b) : null);
  const added = (a: number | null | undefined, b: number | null | undefined) => (known(a) && known(b) ? round3(a - b) : null);
  const waitNone = row(WAIT_CONTENDERS[0], 'data');
  const wait1 = row(WAIT_CONTENDERS[1], 'data');
  const gateReject = details.find((d) => d.contender === 'gate' && d.scenario === 'flash')?.p99Reject;
  return {
    gateOverBare: ratio(row('gate', 'flash')?.rps, row('bare', 'flash')?.rps),
    p99RejectOverBare: ratio(gateReject, row('bare', 'flash')?.p99),
    flashDbTxMysqlRowOverCheckout: ratio(row('mysql-row', 'flash')?.dbTxPer1k, row('checkout', 'flash')?.dbTxPer1k),
    flashDataOverMysqlRow: ratio(row('checkout', 'flash-data')?.rps, row('mysql-row', 'flash-data')?.rps),
    storeOverRedisBenchmark: ratio(row('store', 'data')?.rps, row('redis-benchmark', 'data')?.rps),
    surgeErrorsMysqlRow: row('mysql-row', 'surge')?.errors ?? null,
    surgeErrorsCheckout: row('checkout', 'surge')?.errors ?? null,
    waitReplicas1OverNone: ratio(wait1?.rps, waitNone?.rps),
    waitReplicas1AddedP50Ms: added(wait1?.p50, waitNone?.p50),
    waitReplicas1AddedP99Ms: added(wait1?.p99, waitNone?.p99),
  };
}

async function machineInfo(settings: BenchSettings): Promise<BenchResults['machine']> {
  const redis = new Redis(settings.redisUrl);
  let redisVersion: string;
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
 * `ensure()` raises the limit when it is below what the run needs (checked
 * again before each server starts, in case something else lowered it);
 * `restore()` puts back the value found, unless someone changed it since.
 */
class ConnectionLimit {
  private original: number | undefined;
  private raisedTo: number | undefined;

  constructor(
    private readonly url: string,
    private readonly needed: number,
    private readonly reporter: Reporter,
  ) {}

  private async query<T>(sql: string, values: unknown[] = []): Promise<T> {
    const conn = await mysql.createConnection(this.url);
    try {
      const [rows] = await conn.query(sql, values);
      return rows as T;
    } finally {
      await conn.end();
    }
  }

  async ensure(): Promise<void> {
    const [row] = await this.query<{ n: number }[]>('SELECT @@GLOBAL.max_connections AS n');
    const current = Number(row?.n);
    if (current >= this.needed) return;
    await this.query('SET GLOBAL max_connections = ?', [this.needed]);
    this.original ??= current;
    this.raisedTo = this.needed;
    this.reporter.log(`MariaDB max_connections ${current} -> ${this.needed} for this run`);
  }

  async restore(): Promise<void> {
    if (this.original === undefined) return;
    await this.query('SET GLOBAL max_connections = IF(@@GLOBAL.max_connections = ?, ?, @@GLOBAL.max_connections)', [
      this.raisedTo,
      this.original,
    ]);
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

/**
 * One contender in one scenario over HTTP: its server process started, its
 * items created, the load in one or more segments, the sale audited in the
 * database, the row computed.
 */
import { profileFlags, type BenchSettings } from './config';
import { runLoad, type LoadResult } from './load';
import { Child, type ServerStats } from './process';
import type { Contender, Row, RowRun, Scenario } from './results';
import type { Audit, Item, ServerConfig } from './servers/types';
import { per1k, percentiles } from './stats';

/** Short codes for skus and key prefixes: names stay short in Redis and MySQL. */
export const SHORT: Record<string, string> = {
  bare: 'ba',
  gate: 'ga',
  'raw-seed': 'rs',
  'store-route': 'sr',
  checkout: 'co',
  'mysql-row': 'mr',
  'mysql-buckets': 'mb',
  decrby: 'dc',
  flash: 'f',
  steady: 's',
  surge: 'u',
};

const orderBody = (sku: string) => JSON.stringify({ sku, qty: 1, payment: 'card' });

export function startServer(settings: BenchSettings, runId: string, contender: Contender, poolMax: number, tag: string, profileName: string): Child {
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

export /** One contender in one scenario, measured in one or more load segments. */
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

export /** Closes every run (audit, cleanup) and stops every child, whatever fails; then throws the first failure. */
async function finishAll(runs: HttpRun[], finish: (run: HttpRun) => Promise<void>, children: Child[]): Promise<void> {
  let failure: unknown;
  for (const run of runs) await finish(run).catch((error: unknown) => (failure ??= error));
  for (const child of children) await child.stop();
  if (failure !== undefined) throw failure;
}

export /** Starts a run: the server ready, its items created, a warm-up on another sku, the counters read. */
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

export /** Loads the run's items for `seconds`, then waits for the server to finish what it received. */
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

export /** Ends a run: counters read, the sale audited in the database, the items removed. */
async function closeRun(run: HttpRun, settings: BenchSettings, progress: (line: string) => void): Promise<RowRun> {
  const { child, contender, scenario, items, warm, label, notes } = run;
  try {
    if (!run.before || !run.load) throw new Error(`${label}: the run did not start`);
    const after = await child.request<ServerStats>({ type: 'stats' });
    phase(progress, `${label}: auditing`);
    const audit = await child.request<Audit>({ type: 'audit', items });
    notes.push(...audit.notes);
    return {
      row: httpRow(run, run.load, run.before, after, audit),
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

function httpRow({ contender, scenario, notes }: HttpRun, load: LoadResult, before: ServerStats, after: ServerStats, audit: Audit): Row {
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
  // when the load stopped ran their transactions and Redis commands too.
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
    dbTxPer1k: per1k(after.dbTransactions - before.dbTransactions, requests),
    redisCallsPer1k: per1k(after.redisCommands - before.redisCommands, requests),
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

const T0 = Date.now();

/** BENCH_TRACE=1: phase timestamps on stderr, to see where a run's time goes. */
function trace(what: string): void {
  if (process.env.BENCH_TRACE) process.stderr.write(`\n${Date.now() - T0} ms: ${what}\n`);
}

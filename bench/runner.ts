/**
 * Runs the whole benchmark in one session: every contender over HTTP in each
 * scenario, each in a fresh server process against fresh products, then the
 * data layer; audits every run in the database; computes the ratios.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { Redis } from 'ioredis';
import mysql from 'mysql2/promise';
import type { BenchSettings } from './config';
import { ConnectionLimit } from './connection-limit';
import { DATA_LAYER_STEPS, runDataLayer } from './data-layer';
import { finishAll, loadSegment, openRun, roundsFor, SHORT, startServer, closeRun, type HttpRun } from './http-run';
import type { Child } from './process';
import { computeRatios } from './ratios';
import { silentReporter, type Reporter } from './reporter';
import type { BenchResults, Contender, Row, RunDetail } from './results';
import { runScriptScenario, SCRIPT_STEPS, type ScriptReport } from './script';
import { scriptTerminal } from './script-report';

/** A whole run: its results, what the report shows beside them, and how it was run. */
export interface BenchReport {
  results: BenchResults;
  details: RunDetail[];
  /** The script scenario's figures, when it ran. */
  script?: ScriptReport;
  settings: BenchSettings;
  startedAt: string;
  elapsedSec: number;
}

/**
 * Loaded in turns when `alternatingRounds` > 1: the gate beside the HTTP
 * ceiling (bare), the article's script (raw-seed) and the store without
 * the middleware (store-route), the ratios that show where its cost is.
 */
const IN_TURNS: Contender[] = ['bare', 'gate', 'raw-seed', 'store-route'];

export async function runBench(settings: BenchSettings, reporter: Reporter = silentReporter): Promise<BenchReport> {
  const started = Date.now();
  const runId = `${started.toString(36)}${randomBytes(2).toString('hex')}`;
  const rows: Row[] = [];
  const details: RunDetail[] = [];
  let script: ScriptReport | undefined;
  const machine = await machineInfo(settings);
  const httpRuns = settings.runScenarios.flatMap((scenario) => settings.contenders.map((contender) => ({ scenario, contender })));
  // The data layer's steps: store with redis-benchmark, waitReplicas, two flash sales; then the script scenario's.
  const steps = httpRuns.length + (settings.dataLayer ? DATA_LAYER_STEPS : 0) + (settings.runScript ? SCRIPT_STEPS : 0);
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
      // A fresh process for every contender and scenario. Those IN_TURNS,
      // whose ratios are the closest calls, take turns in rounds (A B C D,
      // D C B A, ...) so that the machine's drifting load falls on all alike.
      for (const scenario of settings.runScenarios) {
        const sc = settings.scenarios[scenario];
        const inTurns = settings.alternatingRounds > 1 ? IN_TURNS.filter((c) => settings.contenders.includes(c)) : [];
        const groups: Contender[][] =
          inTurns.length > 1
            ? [inTurns, ...settings.contenders.filter((c) => !inTurns.includes(c)).map((c) => [c])]
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
            const rounds = runs.length > 1 ? roundsFor(sc.durationSec, settings.alternatingRounds) : 1;
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
    if (settings.runScript) {
      script = await runScriptScenario(settings.script, (label) => {
        step++;
        reporter.progress(`[${step}/${steps}] ${label}`);
      });
      for (const line of scriptTerminal(script).slice(1)) reporter.log(`      ${line}`);
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
    results: { machine, rows, ratios: computeRatios(rows, details, script) },
    details,
    script,
    settings,
    startedAt: new Date(started).toISOString(),
    elapsedSec: Math.round((Date.now() - started) / 100) / 10,
  };
}

function summary(row: Row): string {
  const fmt = (x: number | null) => (x === null ? '-' : String(x));
  return (
    `${row.scenario} · ${row.contender}: ${Math.round(row.rps)}/s, p50 ${fmt(row.p50)} p99 ${fmt(row.p99)} ms, ` +
    `sold ${fmt(row.sold)}, 409 ${row.rejected}, errors ${row.errors}, oversold ${row.oversold}, tx/1k ${row.dbTxPer1k}, ` +
    `redis cmd/1k ${fmt(row.redisCallsPer1k)}`
  );
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

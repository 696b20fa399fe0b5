/**
 * The benchmark's outputs: the terminal table, bench/results/latest.json (the
 * issue's shape), latest.md (Markdown) and chart.svg (./chart.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartSvg } from './chart';
import type { BenchReport } from './runner';
import { toJson, type Ratios, type Row, type RunDetail } from './results';
import type { ScriptReport } from './script';
import { SCRIPT_AIMS, scriptMarkdown, scriptTerminal } from './script-report';

/** Where a run's outputs go under `outDir`. */
export const resultsPaths = (outDir: string) => ({
  json: join(outDir, 'latest.json'),
  md: join(outDir, 'latest.md'),
  svg: join(outDir, 'chart.svg'),
});

/** The aims of the issue, each checked against the ratios. */
export const AIMS: { key: keyof Ratios; label: string; aim: string; met: (v: number) => boolean }[] = [
  { key: 'gateOverBare', label: 'gate / bare, req/s, flash sale', aim: '>= 0.90', met: (v) => v >= 0.9 },
  { key: 'gateOverRawSeed', label: "gate / raw-seed (the article's script in a hand-written route), req/s, flash sale", aim: '>= 1.0', met: (v) => v >= 1 },
  { key: 'steadyGateOverRawSeed', label: 'gate / raw-seed, req/s, steady', aim: '>= 0.85', met: (v) => v >= 0.85 },
  {
    key: 'storeRouteOverRawSeed',
    label: 'store-route (store.reserve() + commit() in a hand-written route) / raw-seed, req/s, flash sale',
    aim: 'reported',
    met: () => true,
  },
  { key: 'flashRedisCallsPer1k', label: "the gate's Redis commands per 1,000 requests, flash sale", aim: 'reported', met: () => true },
  { key: 'p99RejectOverBare', label: "p99 of the gate's 409s / p99 of bare", aim: '<= 2', met: (v) => v <= 2 },
  {
    key: 'flashDbTxMysqlRowOverCheckout',
    label: 'db transactions per 1k requests, mysql-row / checkout, flash sale',
    aim: '>= 10',
    met: (v) => v >= 10,
  },
  { key: 'flashDataOverMysqlRow', label: 'flash sale without HTTP, attempts/s, gate + transaction for winners (checkout) / mysql-row', aim: '>= 10', met: (v) => v >= 10 },
  {
    key: 'storeOverRedisBenchmark',
    label: 'store.reserve() / redis-benchmark EVALSHA, ops/s, same concurrency',
    aim: '>= 1.0',
    met: (v) => v >= 1,
  },
  { key: 'surgeErrorsCheckout', label: 'checkout errors in the surge', aim: '= 0', met: (v) => v === 0 },
  { key: 'surgeErrorsMysqlRow', label: 'mysql-row errors in the surge', aim: 'reported', met: () => true },
  {
    key: 'waitReplicas1OverNone',
    label: 'store.reserve() with waitReplicas 1 / without, ops/s, master with one replica',
    aim: 'reported',
    met: () => true,
  },
  { key: 'waitReplicas1AddedP50Ms', label: 'p50 latency waitReplicas 1 adds, ms', aim: 'reported', met: () => true },
  { key: 'waitReplicas1AddedP99Ms', label: 'p99 latency waitReplicas 1 adds, ms', aim: 'reported', met: () => true },
  ...SCRIPT_AIMS,
];

export const num = (x: number | null, digits = 0): string =>
  x === null ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const ms = (x: number | null): string => (x === null ? '–' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));

const HEADERS = ['scenario', 'contender', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'sold', '409s', 'errors', 'oversold', 'db tx/1k', 'redis cmd/1k'];

function cells(r: Row): string[] {
  return [
    r.scenario,
    r.contender,
    num(r.rps),
    ms(r.p50),
    ms(r.p99),
    ms(r.p999),
    num(r.sold),
    num(r.rejected),
    num(r.errors),
    num(r.oversold),
    num(r.dbTxPer1k, 1),
    num(r.redisCallsPer1k, 1),
  ];
}

const RED = '\u001b[31m';
const RESET = '\u001b[0m';

/** The table for the terminal; rows that oversold are red when `color`. */
export function terminalTable(report: BenchReport, color: boolean): string {
  const { rows, ratios, machine } = report.results;
  const table = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...table.map((line) => (line[i] ?? '').length)));
  const render = (line: string[]) =>
    line.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const out: string[] = [];
  out.push(`machine: ${machine.cores} cores, node ${machine.node}, redis ${machine.redis}, mariadb ${machine.mariadb}`);
  out.push(render(HEADERS));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) {
    const line = render(cells(r));
    out.push(color && r.oversold > 0 ? `${RED}${line}  OVERSOLD${RESET}` : r.oversold > 0 ? `${line}  OVERSOLD` : line);
  }
  out.push('');
  for (const aim of AIMS) {
    const v = ratios[aim.key];
    const verdict = v === null ? 'not measured' : aim.met(v) ? 'met' : 'MISSED';
    const text = `${aim.key.padEnd(30)} ${v === null ? '–' : String(v)}  (aim ${aim.aim}: ${verdict})`;
    out.push(color && verdict === 'MISSED' ? `${RED}${text}${RESET}` : text);
  }
  const memory = memoryLine(report.details, report.script);
  if (memory) out.push('', memory);
  out.push(...scriptTerminal(report.script));
  return out.join('\n');
}

/** What each database design does at the surge's connections. */
function surgeLine(rows: Row[], connections: number): string | null {
  const surge = rows.filter((r) => r.scenario === 'surge' && ['checkout', 'mysql-row', 'mysql-buckets', 'decrby'].includes(r.contender));
  if (surge.length === 0) return null;
  const parts = surge.map(
    (r) =>
      `${r.contender} ${num(r.rps)} req/s, p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms, ${num(r.errors)} error(s), ` +
      `${num(r.oversold)} oversold, ${num(r.dbTxPer1k, 1)} db tx/1k`,
  );
  return `**Surge (${connections} connections):** ${parts.join('; ')}.`;
}

function memoryLine(details: RunDetail[], script: ScriptReport | undefined): string | null {
  const d = details.find((x) => x.contender === 'checkout' && x.scenario === 'flash');
  const perHold = script?.bytesPerOpenHold;
  if (!d?.rssBefore || !d.rssAfter) return null;
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MB`;
  return (
    `memory: example app RSS ${mb(d.rssBefore)} before the flash sale, ${mb(d.rssAfter)} after; ` +
    `Redis used_memory per open hold: ${perHold === undefined ? 'not measured' : `${Math.round(perHold)} bytes`}`
  );
}

/** The Markdown report: settings, the table, the ratios against the aims, notes. */
export function markdown(report: BenchReport): string {
  const { results, settings } = report;
  const { machine, rows, ratios } = results;
  const out: string[] = [];
  out.push(`# Benchmark${settings.quick ? ' (quick smoke run: figures are not meaningful)' : ''}`, '');
  out.push(
    `Run ${report.startedAt} in ${report.elapsedSec} s on ${machine.cores} cores, Node ${machine.node}, ` +
      `Redis ${machine.redis}, MariaDB ${machine.mariadb}. Reproduce with \`npm run bench\` ` +
      '(`npm run bench -- --quick` for a smoke run).',
    '',
  );
  const sc = settings.scenarios;
  const scenarioText: Record<string, string> = {
    flash: `flash sale: 1 sku, ${sc.flash.stock.toLocaleString('en-US')} units, ${sc.flash.connections} connections, ${sc.flash.durationSec} s`,
    steady: `steady: ${sc.steady.skus.toLocaleString('en-US')} skus with ample stock, ${sc.steady.connections} connections, ${sc.steady.durationSec} s`,
    surge: `surge: the flash sale at ${sc.surge.connections} connections, database pool ${sc.surge.poolMax}, ${sc.surge.durationSec} s`,
  };
  for (const s of settings.runScenarios) out.push(`- ${scenarioText[s]}`);
  if (settings.dataLayer) {
    out.push(
      `- data: \`store.reserve()\` ${settings.store.calls.toLocaleString('en-US')} calls from ${settings.store.concurrency} concurrent callers in one process, ` +
        `next to \`redis-benchmark -n ${settings.store.calls} -c ${settings.store.concurrency} EVALSHA <sha> 7 <keys> 1 <new hold id> <ms> <ms> '' \` of the same script`,
      `- data, store-replica and store-wait1: the same \`store.reserve()\` loop, ${settings.waitReplicas.calls.toLocaleString('en-US')} calls each, ` +
        'against a private master with one replica on loopback, with `waitReplicas` 0 and 1 (a `WAIT 1 100` after each reservation)',
      `- flash-data: ${settings.flashData.units} units, ${settings.flashData.attemptsPerUnit} attempts per unit, ${settings.flashData.concurrency} concurrent callers, no HTTP: ` +
        'checkout = `store.reserve()` then the database transaction for winners only; mysql-row = the transaction for every attempt',
    );
  }
  out.push(
    '',
    'Same autocannon settings for every contender of a scenario, each server in its own process against fresh ' +
      `products, after a ${settings.warmupSec} s warm-up on another sku; gate, raw-seed, store-route, checkout and decrby have their Redis ` +
      'figures loaded before the run. raw-seed is the seed article\'s design by hand: its one Lua script (check and deduct) ' +
      'called through ioredis `defineCommand` in a hand-written route; store-route is `store.reserve()` then `store.commit()` ' +
      'in the same route, without the `reserveStock` middleware; gate is the middleware in front of a route that only answers 201. ' +
      (settings.alternatingRounds > 1
        ? 'bare, gate, raw-seed and store-route take turns in one-second rounds (A B C D, D C B A, ...) adding up to the same ' +
          `duration, and so do store and redis-benchmark, and store-replica and store-wait1, in ${settings.alternatingRounds} rounds, ` +
          "so that the shared machine's drifting load falls on every side of those ratios alike. "
        : '') +
      'Latencies in ms over all answers. `sold` is counted in the database (paid orders) afterwards; for gate, raw-seed ' +
      'and store-route, which have no database, it is the units their handler answered 201 for, checked against the figure ' +
      'left in Redis; for the data layer, in the store. `oversold` is units sold beyond the stock. `errors` are timeouts, connection ' +
      "errors and 5xx. `db tx/1k` is database transactions per 1,000 requests from the server's own counter. " +
      "`redis cmd/1k` is Redis commands per 1,000 requests from the server's own counter of what its connection sent " +
      '(a script\'s call is one, whatever it runs inside; the shared Redis\'s own count would take in other clients\' too).',
    '',
  );
  out.push(`| ${HEADERS.join(' | ')} |`, `| ${HEADERS.map((_, i) => (i < 2 ? '---' : '---:')).join(' | ')} |`);
  for (const r of rows) {
    const c = cells(r);
    if (r.oversold > 0) c[9] = `🔴 **${c[9]}**`;
    out.push(`| ${c.join(' | ')} |`);
  }
  out.push('', '| ratio | value | aim | |', '| --- | ---: | --- | --- |');
  for (const aim of AIMS) {
    const v = ratios[aim.key];
    const verdict = v === null ? 'not measured' : aim.met(v) ? '✅ met' : '❌ missed';
    out.push(`| \`${aim.key}\`: ${aim.label} | ${v === null ? '–' : v} | ${aim.aim} | ${verdict} |`);
  }
  const surge = surgeLine(rows, settings.scenarios.surge.connections);
  if (surge) out.push('', surge);
  const memory = memoryLine(report.details, report.script);
  if (memory) out.push('', memory.replace(/^memory:/, '**Memory:**'));
  out.push(...scriptMarkdown(report.script));
  const notes = report.details.filter((d) => d.notes.length > 0);
  if (notes.length > 0) {
    out.push('', '**Notes:**', '');
    for (const d of notes) out.push(`- ${d.scenario} · ${d.contender}: ${d.notes.join('; ')}`);
  }
  out.push('', '![benchmark chart](chart.svg)', '');
  return out.join('\n');
}

/** Writes latest.json, latest.md and chart.svg under `outDir`. */
export function writeOutputs(report: BenchReport, outDir: string): ReturnType<typeof resultsPaths> {
  mkdirSync(outDir, { recursive: true });
  const paths = resultsPaths(outDir);
  writeFileSync(paths.json, toJson(report.results));
  writeFileSync(paths.md, markdown(report));
  writeFileSync(paths.svg, chartSvg(report));
  return paths;
}

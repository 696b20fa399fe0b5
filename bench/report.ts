/**
 * The benchmark's outputs: the terminal table, bench/results/latest.json (the
 * issue's shape), latest.md (Markdown) and chart.svg (drawn here, no
 * dependency).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import type { BenchReport, BenchResults, Ratios, Row, RunDetail } from './runner';
import { resultsPaths } from './runner';

/** The aims of the issue, each checked against the ratios. */
export const AIMS: { key: keyof Ratios; label: string; aim: string; met: (v: number) => boolean }[] = [
  { key: 'gateOverBare', label: 'gate / bare, req/s, flash sale', aim: '>= 0.85', met: (v) => v >= 0.85 },
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
];

/** The JSON of the issue: machine, rows, ratios, nothing else. */
export function toJson(results: BenchResults): string {
  const rows = results.rows.map((r) => ({
    contender: r.contender,
    scenario: r.scenario,
    rps: r.rps,
    p50: r.p50,
    p99: r.p99,
    p999: r.p999,
    sold: r.sold,
    rejected: r.rejected,
    errors: r.errors,
    oversold: r.oversold,
    dbTxPer1k: r.dbTxPer1k,
  }));
  return `${JSON.stringify({ machine: results.machine, rows, ratios: results.ratios }, null, 2)}\n`;
}

const num = (x: number | null, digits = 0): string =>
  x === null ? '–' : x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (x: number | null): string => (x === null ? '–' : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0));

const HEADERS = ['scenario', 'contender', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'sold', '409s', 'errors', 'oversold', 'db tx/1k'];

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
  const memory = memoryLine(report.details);
  if (memory) out.push('', memory);
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

function memoryLine(details: RunDetail[]): string | null {
  const d = details.find((x) => x.contender === 'checkout' && x.scenario === 'flash');
  const perHold = details.find((x) => x.contender === 'store' && x.scenario === 'data')?.bytesPerHold;
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
        `next to \`redis-benchmark -n ${settings.store.calls} -c ${settings.store.concurrency} EVALSHA <sha> 5 <keys> 1 <new hold id> <ms> <ms>\` of the same script`,
      `- data, store-replica and store-wait1: the same \`store.reserve()\` loop, ${settings.waitReplicas.calls.toLocaleString('en-US')} calls each, ` +
        'against a private master with one replica on loopback, with `waitReplicas` 0 and 1 (a `WAIT 1 100` after each reservation)',
      `- flash-data: ${settings.flashData.units} units, ${settings.flashData.attemptsPerUnit} attempts per unit, ${settings.flashData.concurrency} concurrent callers, no HTTP: ` +
        'checkout = `store.reserve()` then the database transaction for winners only; mysql-row = the transaction for every attempt',
    );
  }
  out.push(
    '',
    'Same autocannon settings for every contender of a scenario, each server in its own process against fresh ' +
      `products, after a ${settings.warmupSec} s warm-up on another sku; gate, checkout and decrby have their Redis ` +
      'figures loaded before the run. ' +
      (settings.pairedRounds > 1
        ? 'bare and gate take turns in one-second rounds (A B, B A, ...) adding up to the same duration, and so do ' +
          `store and redis-benchmark, and store-replica and store-wait1, in ${settings.pairedRounds} rounds, so that the shared machine's drifting load ` +
          'falls on both sides of those ratios alike. '
        : '') +
      'Latencies in ms over all answers. `sold` is counted in the database (paid orders; the store for gate and ' +
      'the data layer) afterwards, `oversold` is units sold beyond the stock. `errors` are timeouts, connection ' +
      "errors and 5xx. `db tx/1k` is database transactions per 1,000 requests from the server's own counter.",
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
  const memory = memoryLine(report.details);
  if (memory) out.push('', memory.replace(/^memory:/, '**Memory:**'));
  const notes = report.details.filter((d) => d.notes.length > 0);
  if (notes.length > 0) {
    out.push('', '**Notes:**', '');
    for (const d of notes) out.push(`- ${d.scenario} · ${d.contender}: ${d.notes.join('; ')}`);
  }
  out.push('', '![benchmark chart](chart.svg)', '');
  return out.join('\n');
}

const COLORS: Record<string, string> = {
  bare: '#9e9e9e',
  gate: '#1e88e5',
  checkout: '#43a047',
  'mysql-row': '#e53935',
  'mysql-buckets': '#fb8c00',
  decrby: '#8e24aa',
  store: '#1e88e5',
  'redis-benchmark': '#9e9e9e',
  'store-replica': '#43a047',
  'store-wait1': '#e53935',
};

interface Bar {
  label: string;
  value: number | null;
  color: string;
  danger?: string;
}
interface Group {
  label: string;
  bars: Bar[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function compact(v: number): string {
  if (v === 0) return '0';
  if (v >= 10_000) return `${(v / 1000).toFixed(0)}k`;
  if (v >= 1000) return `${(v / 1000).toFixed(1)}k`;
  if (v >= 10) return v.toFixed(0);
  if (v >= 1) return v.toFixed(1);
  return v.toFixed(2);
}

/** One panel of grouped bars, linear or log scale, at vertical offset `top`. */
function panel(title: string, groups: Group[], top: number, width: number, height: number, log = false): string {
  const left = 60;
  const plotW = width - left - 20;
  const plotTop = top + 36;
  const plotH = height - plotTop + top - 100;
  const values = groups.flatMap((g) => g.bars.map((b) => b.value ?? 0)).filter((v) => v > 0);
  const max = Math.max(1e-9, ...values);
  let scale: (v: number) => number;
  let ticks: number[];
  if (log) {
    const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...values, max))));
    const hi = Math.max(lo * 10, max * 1.3);
    scale = (v) => (v <= 0 ? 0 : Math.max(0, (Math.log10(v / lo) / Math.log10(hi / lo)) * plotH));
    ticks = [];
    for (let t = lo; t <= hi; t *= 10) {
      for (const m of [1, 2, 5]) if (t * m <= hi) ticks.push(t * m);
    }
  } else {
    const step = niceStep(max / 4);
    const hi = Math.ceil(max / step) * step;
    scale = (v) => (v / hi) * plotH;
    ticks = [];
    for (let t = 0; t <= hi + step / 2; t += step) ticks.push(t);
  }
  const out: string[] = [];
  out.push(`<text x="${left}" y="${top + 18}" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (const t of ticks) {
    const y = plotTop + plotH - scale(t);
    out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e0e0e0"/>`);
    out.push(`<text x="${left - 6}" y="${(y + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#555">${compact(t)}</text>`);
  }
  const groupW = plotW / Math.max(1, groups.length);
  groups.forEach((g, gi) => {
    const n = Math.max(1, g.bars.length);
    const barW = Math.min(44, (groupW - 24) / n);
    const x0 = left + gi * groupW + (groupW - barW * n) / 2;
    g.bars.forEach((b, bi) => {
      const x = x0 + bi * barW;
      const h = b.value === null ? 0 : scale(b.value);
      const y = plotTop + plotH - h;
      out.push(
        `<rect x="${(x + 2).toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="${b.color}"` +
          `${b.danger ? ' stroke="#d50000" stroke-width="3"' : ''}><title>${esc(`${g.label} · ${b.label}: ${b.value ?? 'n/a'}`)}</title></rect>`,
      );
      const label = b.value === null ? 'n/a' : compact(b.value);
      out.push(
        `<text x="${(x + barW / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" font-size="10" text-anchor="middle" fill="${b.danger ? '#d50000' : '#333'}">${esc(label)}</text>`,
      );
      if (b.danger) {
        out.push(
          `<text x="${(x + barW / 2).toFixed(1)}" y="${(y - 16).toFixed(1)}" font-size="10" text-anchor="middle" fill="#d50000" font-weight="bold">${esc(b.danger)}</text>`,
        );
      }
      out.push(
        `<text transform="translate(${(x + barW / 2 + 3).toFixed(1)},${plotTop + plotH + 8}) rotate(35)" font-size="10" fill="#333">${esc(b.label)}</text>`,
      );
    });
    out.push(
      `<text x="${(left + gi * groupW + groupW / 2).toFixed(1)}" y="${plotTop + plotH + 88}" font-size="12" text-anchor="middle" font-weight="bold">${esc(g.label)}</text>`,
    );
  });
  out.push(`<line x1="${left}" x2="${left + plotW}" y1="${plotTop + plotH}" y2="${plotTop + plotH}" stroke="#333"/>`);
  return out.join('\n');
}

function niceStep(raw: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

/** The chart: req/s and p99 per scenario, db work in the flash sale, the data layer. */
export function chartSvg(report: BenchReport): string {
  const { rows, machine } = report.results;
  const width = 980;
  const panelH = 330;
  const httpScenarios = ['flash', 'steady', 'surge'].filter((s) => rows.some((r) => r.scenario === s));
  const bar = (r: Row, value: number | null, label = r.contender): Bar => ({
    label,
    value,
    color: COLORS[r.contender] ?? '#607d8b',
    danger: r.oversold > 0 ? `oversold ${r.oversold}` : undefined,
  });
  const byScenario = (pick: (r: Row) => number | null): Group[] =>
    httpScenarios.map((s) => ({ label: s, bars: rows.filter((r) => r.scenario === s).map((r) => bar(r, pick(r))) }));
  const panels: string[] = [];
  let top = 52;
  if (httpScenarios.length > 0) {
    panels.push(panel('HTTP: requests/s (higher is better)', byScenario((r) => r.rps), top, width, panelH));
    top += panelH;
    panels.push(panel('HTTP: p99 latency, ms, log scale (lower is better)', byScenario((r) => r.p99), top, width, panelH, true));
    top += panelH;
    panels.push(
      panel(
        'HTTP: database transactions per 1,000 requests (the database work)',
        byScenario((r) => r.dbTxPer1k),
        top,
        width,
        panelH,
      ),
    );
    top += panelH;
  }
  const dataGroups: Group[] = [];
  const storeRows = rows.filter((r) => r.scenario === 'data');
  if (storeRows.length) dataGroups.push({ label: 'reserve ops/s (same concurrency)', bars: storeRows.map((r) => bar(r, r.rps)) });
  const flashRows = rows.filter((r) => r.scenario === 'flash-data');
  if (flashRows.length) {
    dataGroups.push({
      label: 'flash sale attempts/s',
      bars: flashRows.map((r) => bar(r, r.rps, r.contender === 'checkout' ? 'gate + db' : r.contender)),
    });
  }
  if (dataGroups.length) {
    panels.push(panel('Data layer, no HTTP (higher is better)', dataGroups, top, width, panelH, true));
    top += panelH;
  }
  const title = `reserve-stock benchmark${report.settings.quick ? ' (quick smoke run: figures not meaningful)' : ''}`;
  const subtitle =
    `${machine.cores} cores, Node ${machine.node}, Redis ${machine.redis}, MariaDB ${machine.mariadb}, ` +
    `${report.startedAt.slice(0, 16).replace('T', ' ')} UTC`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + 10}" viewBox="0 0 ${width} ${top + 10}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="${width / 2}" y="22" font-size="16" text-anchor="middle" font-weight="bold">${esc(title)}</text>`,
    `<text x="${width / 2}" y="40" font-size="12" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
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

/** chart.svg: the run's rows as grouped bars, drawn here with no dependency. */
import type { BenchReport } from './runner';
import { DATA_ROWS, SCENARIOS, type Row, type RowContender } from './results';

const COLORS: Record<RowContender, string> = {
  bare: '#9e9e9e',
  gate: '#1e88e5',
  'raw-seed': '#90caf9',
  'store-route': '#3949ab',
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
  const httpScenarios = SCENARIOS.filter((s) => rows.some((r) => r.scenario === s));
  const bar = (r: Row, value: number | null, label: string = r.contender): Bar => ({
    label,
    value,
    color: COLORS[r.contender],
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
  const storeRows = rows.filter((r) => r.scenario === DATA_ROWS.store[0]);
  if (storeRows.length) dataGroups.push({ label: 'reserve ops/s (same concurrency)', bars: storeRows.map((r) => bar(r, r.rps)) });
  const flashRows = rows.filter((r) => r.scenario === DATA_ROWS.flashCheckout[0]);
  if (flashRows.length) {
    dataGroups.push({
      label: 'flash sale attempts/s',
      bars: flashRows.map((r) => bar(r, r.rps, r.contender === DATA_ROWS.flashCheckout[1] ? 'gate + db' : r.contender)),
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

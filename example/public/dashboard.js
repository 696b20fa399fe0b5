// The sale dashboard: polls GET /dashboard/data once a second and charts
// the answers per second and each product's stock.
import { drawLines, PALETTE } from './chart.js';

const REFRESH_MS = 1000;
// The charts zoom to the sale: from its first second, at least a minute, at most the data's window.
const MIN_SPAN = 60;

const RATES = [
  ['sales', '#16a34a'],
  ['soldOut', '#dc2626'],
  ['unavailable', '#ea580c'],
];

function chart(name) {
  return document.querySelector(`[data-chart="${name}"]`);
}

/** Seconds shown: the data's first second to now. */
function spanOf({ now, seconds, buckets }) {
  const first = buckets[0]?.t ?? now;
  return Math.min(seconds, Math.max(MIN_SPAN, now - first + 1));
}

/** One value per second of the span, oldest first; `fill(previous)` for seconds with no bucket. */
function perSecond(data, span, pick, fill) {
  const byTime = new Map(data.buckets.map((bucket) => [bucket.t, bucket]));
  const values = [];
  for (let t = data.now - span + 1; t <= data.now; t++) {
    const bucket = byTime.get(t);
    const value = bucket === undefined ? undefined : pick(bucket);
    values.push(value === undefined ? fill(values.at(-1) ?? null) : value);
  }
  return values;
}

function drawRates(data, span) {
  for (const [name, color] of RATES) {
    const values = perSecond(data, span, (bucket) => bucket[name], () => 0);
    const figure = chart(name);
    // The second still running is partial: the last whole one is the current rate.
    figure.querySelector('.now').textContent = String(values.at(-2) ?? 0);
    drawLines(figure.querySelector('svg'), [{ color, values }], span);
  }
}

function drawStock(data, span) {
  const skus = [...new Set(data.buckets.flatMap((bucket) => Object.keys(bucket.stock)))];
  // A product's figure holds until the next one: stock only moves when something happens.
  const series = skus.map((sku, i) => ({
    sku,
    color: PALETTE[i % PALETTE.length],
    values: perSecond(data, span, (bucket) => bucket.stock[sku], (previous) => previous),
  }));
  const figure = chart('stock');
  drawLines(figure.querySelector('svg'), series, span);
  figure.querySelector('.legend').replaceChildren(
    ...series.map(({ sku, color, values }) => {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.style.background = color;
      item.dataset.sku = sku;
      item.append(swatch, `${sku}: ${values.at(-1) ?? '?'}`);
      return item;
    }),
  );
}

async function refresh() {
  try {
    const response = await fetch('/dashboard/data');
    if (!response.ok) return;
    const data = await response.json();
    const span = spanOf(data);
    document.querySelector('[data-role="span"]').textContent =
      data.buckets.length === 0 ? 'Waiting for the first sale…' : `The last ${span} seconds, updated every second.`;
    drawRates(data, span);
    drawStock(data, span);
  } catch {
    // The next refresh tries again.
  }
}

async function poll() {
  await refresh();
  setTimeout(poll, REFRESH_MS);
}

void poll();

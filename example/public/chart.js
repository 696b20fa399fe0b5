// Line charts in SVG, drawn from plain arrays: no charting library to load.

const SVG = 'http://www.w3.org/2000/svg';
const MARGIN = { left: 40, right: 8, top: 8, bottom: 18 };

/** Colours for the stock lines, one per product in turn. */
export const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

function element(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

function text(content, attributes) {
  const node = element('text', { class: 'label', ...attributes });
  node.textContent = content;
  return node;
}

/** The points of one series; `null` values (no figure yet) break the line. */
function segments(values, x, y) {
  const runs = [[]];
  values.forEach((value, i) => {
    if (value === null) runs.push([]);
    else runs.at(-1).push(`${x(i).toFixed(1)},${y(value).toFixed(1)}`);
  });
  return runs.filter((run) => run.length > 0);
}

/**
 * Draws `series` ({ color, values }, one value a second, oldest first) into
 * `svg`, replacing what was there; the x axis ends at now, `span` seconds long.
 */
export function drawLines(svg, series, span) {
  const [, , width, height] = svg.getAttribute('viewBox').split(' ').map(Number);
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const top = Math.max(1, ...series.flatMap(({ values }) => values.filter((v) => v !== null)));
  const x = (i) => MARGIN.left + (plotWidth * i) / Math.max(1, span - 1);
  const y = (value) => MARGIN.top + plotHeight * (1 - value / top);
  svg.replaceChildren(
    element('line', { class: 'axis', x1: MARGIN.left, y1: y(0), x2: width - MARGIN.right, y2: y(0) }),
    element('line', { class: 'axis', x1: MARGIN.left, y1: y(top), x2: MARGIN.left, y2: y(0) }),
    text(String(top), { x: MARGIN.left - 4, y: y(top) + 4, 'text-anchor': 'end' }),
    text('0', { x: MARGIN.left - 4, y: y(0) + 4, 'text-anchor': 'end' }),
    text(`-${span}s`, { x: MARGIN.left, y: height - 4 }),
    text('now', { x: width - MARGIN.right, y: height - 4, 'text-anchor': 'end' }),
  );
  for (const { color, values } of series) {
    for (const points of segments(values, x, y)) {
      svg.append(element('polyline', { class: 'line', stroke: color, points: points.join(' ') }));
    }
  }
}

// A small SVG scatter drawn by hand: one dot per target (its series colour, its number beside it),
// e.g. mean score against cost per item. Arrow keys step through the dots and read each one.

import { h, s } from './dom.js';
import { niceScale } from './charts.js';

const WIDTH = 480;
const HEIGHT = 240;
const MARGIN = { top: 14, right: 18, bottom: 40, left: 56 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

function ticks(scale) {
  const values = [];
  for (let value = 0; value <= scale.max + scale.step / 2; value += scale.step) values.push(value);
  return values;
}

/**
 * scatterChart({title, points: [{name, index, x, y}], xTitle, yTitle, formatX, formatY, yMax?})
 * -> <figure>. Points whose x or y is not a number are listed as "no data".
 */
export function scatterChart({ title, points, xTitle, yTitle, formatX, formatY, yMax = null }) {
  const drawn = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xScale = niceScale(Math.max(0, ...drawn.map((p) => p.x)));
  const highest = Math.max(0, ...drawn.map((p) => p.y));
  const yScale = yMax ? { max: yMax, step: yMax / 4 } : highest <= 1 ? { max: 1, step: 0.25 } : niceScale(highest);
  const xAt = (value) => MARGIN.left + (value / xScale.max) * PLOT_W;
  const yAt = (value) => MARGIN.top + PLOT_H - (Math.max(0, value) / yScale.max) * PLOT_H;
  const describe = (p) => `${p.index + 1}. ${p.name}: ${yTitle} ${formatY(p.y)}, ${xTitle} ${formatX(p.x)}`;
  const summary = drawn.length ? drawn.map(describe).join('; ') : 'No target has data yet.';

  const axes = s('g', { class: 'chart-axes' });
  for (const value of ticks(yScale)) {
    axes.append(
      s('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: yAt(value), y2: yAt(value), class: value === 0 ? 'chart-baseline' : 'chart-grid' }),
      s('text', { x: MARGIN.left - 6, y: yAt(value) + 4, 'text-anchor': 'end', class: 'chart-tick' }, formatY(value)));
  }
  for (const value of ticks(xScale)) {
    axes.append(s('text', { x: xAt(value), y: MARGIN.top + PLOT_H + 15, 'text-anchor': 'middle', class: 'chart-tick' }, formatX(value)));
  }
  axes.append(
    s('text', { x: MARGIN.left + PLOT_W / 2, y: HEIGHT - 4, 'text-anchor': 'middle', class: 'chart-tick chart-axis-title' }, xTitle),
    s('text', { x: 12, y: MARGIN.top + PLOT_H / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${MARGIN.top + PLOT_H / 2})`, class: 'chart-tick chart-axis-title' }, yTitle));
  // A dot's number sits beside it, on the side away from an earlier dot at about the same place.
  const placed = [];
  const labelAt = (x, y) => {
    const near = placed.filter(([px, py]) => Math.abs(px - x) < 14 && Math.abs(py - y) < 14).length;
    placed.push([x, y]);
    return [x + 9 + 12 * near, near % 2 ? y + 16 : y - 7];
  };
  const dots = drawn.map((p) => {
    const [x, y] = [xAt(p.x), yAt(p.y)];
    const [labelX, labelY] = labelAt(x, y);
    return s('g', { class: `lab-dot series-${p.index % 8}` },
      s('circle', { cx: x, cy: y, r: 6, class: 'chart-dot' }),
      s('text', { x: labelX, y: labelY, class: 'chart-tick lab-dot-label' }, String(p.index + 1)),
      s('title', null, describe(p)));
  });
  const svg = s('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img', tabindex: '0',
    'aria-label': `${title}. ${summary}. Use the arrow keys to read each target.`,
  }, s('title', null, title), axes, dots);
  const readout = h('p', { class: 'lab-chart-readout small', role: 'status', 'aria-live': 'polite' });
  let active = -1;
  svg.addEventListener('keydown', (event) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (!step || !drawn.length) return;
    event.preventDefault();
    dots[active]?.classList.remove('lab-dot-active');
    active = (active + step + drawn.length) % drawn.length;
    dots[active].classList.add('lab-dot-active');
    readout.textContent = describe(drawn[active]);
  });
  svg.addEventListener('blur', () => { dots[active]?.classList.remove('lab-dot-active'); });
  const missing = points.filter((p) => !drawn.includes(p));
  return h('figure', { class: 'chart-figure lab-chart' },
    h('figcaption', { class: 'chart-title' }, title),
    h('div', { class: 'chart-canvas' }, svg),
    readout,
    h('ul', { class: 'chart-legend' }, points.map((p) => h('li', null,
      h('span', { class: `legend-swatch series-${p.index % 8}`, 'aria-hidden': 'true' }),
      `${p.index + 1}. ${p.name}${missing.includes(p) ? ' (no data yet)' : ''}`))));
}

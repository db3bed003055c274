// Small SVG time charts drawn by hand: stacked bars or lines, one colour per group, a legend, and a
// tooltip that follows the pointer or the arrow keys.

import { h, s } from './dom.js';

const WIDTH = 480;
const HEIGHT = 210;
const MARGIN = { top: 12, right: 12, bottom: 26, left: 58 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

/** A round axis maximum and its tick step for values up to max. */
export function niceScale(max, ticks = 4) {
  if (!(max > 0)) return { max: 1, step: 0.25 };
  const raw = max / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw);
  return { max: Math.ceil(max / step - 1e-9) * step, step };
}

function seriesClass(series, index) {
  return series.other ? 'series-other' : `series-${index % 8}`;
}

function stackedTops(series, count) {
  const tops = new Array(count).fill(0);
  for (const one of series) one.values.forEach((value, i) => { tops[i] += value || 0; });
  return tops;
}

function xLabelIndexes(count, wanted = 6) {
  if (count <= wanted) return [...Array(count).keys()];
  const step = Math.ceil(count / wanted);
  const indexes = [];
  for (let i = 0; i < count; i += step) indexes.push(i);
  return indexes;
}

function axes(scale, format, buckets, xLabel) {
  const group = s('g', { class: 'chart-axes' });
  for (let value = 0; value <= scale.max + scale.step / 2; value += scale.step) {
    const y = MARGIN.top + PLOT_H - (value / scale.max) * PLOT_H;
    group.append(
      s('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y, y2: y, class: value === 0 ? 'chart-baseline' : 'chart-grid' }),
      s('text', { x: MARGIN.left - 6, y: y + 4, 'text-anchor': 'end', class: 'chart-tick' }, format(value)));
  }
  const band = PLOT_W / Math.max(1, buckets.length);
  for (const i of xLabelIndexes(buckets.length)) {
    group.append(s('text', {
      x: MARGIN.left + band * (i + 0.5), y: HEIGHT - 8, 'text-anchor': 'middle', class: 'chart-tick',
    }, xLabel(buckets[i])));
  }
  return group;
}

function bars(series, scale, count) {
  const band = PLOT_W / Math.max(1, count);
  const width = Math.max(1, band * 0.72);
  const group = s('g', { class: 'chart-bars' });
  const base = new Array(count).fill(0);
  series.forEach((one, index) => {
    one.values.forEach((value, i) => {
      if (!value) return;
      const y0 = MARGIN.top + PLOT_H - (base[i] / scale.max) * PLOT_H;
      const heightPx = (value / scale.max) * PLOT_H;
      base[i] += value;
      group.append(s('rect', {
        x: MARGIN.left + band * i + (band - width) / 2, y: y0 - heightPx, width, height: Math.max(0.5, heightPx),
        class: `chart-bar ${seriesClass(one, index)}`,
      }));
    });
  });
  return group;
}

function lines(series, scale, count) {
  const band = PLOT_W / Math.max(1, count);
  const group = s('g', { class: 'chart-lines' });
  series.forEach((one, index) => {
    const points = [];
    one.values.forEach((value, i) => {
      if (value === null || value === undefined) return;
      points.push([MARGIN.left + band * (i + 0.5), MARGIN.top + PLOT_H - (value / scale.max) * PLOT_H]);
    });
    if (!points.length) return;
    const cls = seriesClass(one, index);
    group.append(s('polyline', { points: points.map((p) => p.join(',')).join(' '), class: `chart-line ${cls}` }));
    if (points.length <= 40) for (const [x, y] of points) group.append(s('circle', { cx: x, cy: y, r: 2.5, class: `chart-dot ${cls}` }));
  });
  return group;
}

function legend(series) {
  if (series.length <= 1 && !series[0]?.name) return null;
  return h('ul', { class: 'chart-legend' }, series.map((one, index) => h('li', null,
    h('span', { class: `legend-swatch ${seriesClass(one, index)}`, 'aria-hidden': 'true' }), one.name)));
}

/**
 * timeChart({title, buckets: Date[], series: [{name, values, other?}], kind: 'bar'|'line',
 *            format: n => string, xLabel: Date => string, tooltipLabel: Date => string})
 * -> <figure>. Values align with buckets; null in a line series means "no data".
 */
export function timeChart({ title, buckets, series, kind = 'bar', format, xLabel, tooltipLabel, summary }) {
  const count = buckets.length;
  const max = kind === 'bar'
    ? Math.max(0, ...stackedTops(series, count))
    : Math.max(0, ...series.flatMap((one) => one.values.filter((v) => typeof v === 'number')));
  const scale = niceScale(max);
  const highlight = s('rect', { class: 'chart-highlight', x: 0, y: MARGIN.top, width: 0, height: PLOT_H, visibility: 'hidden' });
  const svg = s('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: 'chart', role: 'img', tabindex: '0', 'aria-label': `${title}. ${summary ?? ''} Use the left and right arrow keys to read each period.`,
  },
  s('title', null, title),
  axes(scale, format, buckets, xLabel),
  highlight,
  kind === 'bar' ? bars(series, scale, count) : lines(series, scale, count));
  const tooltip = h('div', { class: 'chart-tooltip', role: 'status', hidden: true });
  const figure = h('figure', { class: 'chart-figure' },
    h('figcaption', { class: 'chart-title' }, title),
    h('div', { class: 'chart-canvas' }, svg, tooltip),
    legend(series));

  let active = -1;
  const band = PLOT_W / Math.max(1, count);
  const show = (index) => {
    if (index < 0 || index >= count) return;
    active = index;
    highlight.setAttribute('x', String(MARGIN.left + band * index));
    highlight.setAttribute('width', String(band));
    highlight.setAttribute('visibility', 'visible');
    const rows = series.map((one, i) => h('li', null,
      h('span', { class: `legend-swatch ${seriesClass(one, i)}`, 'aria-hidden': 'true' }),
      `${one.name ? `${one.name}: ` : ''}${one.values[index] === null || one.values[index] === undefined ? '—' : format(one.values[index])}`));
    tooltip.replaceChildren(h('p', { class: 'tooltip-title' }, tooltipLabel(buckets[index])), h('ul', null, rows));
    tooltip.hidden = false;
    const rect = svg.getBoundingClientRect();
    const x = ((MARGIN.left + band * (index + 0.5)) / WIDTH) * rect.width;
    const flip = x > rect.width * 0.6;
    tooltip.style.left = flip ? 'auto' : `${x + 12}px`;
    tooltip.style.right = flip ? `${rect.width - x + 12}px` : 'auto';
  };
  const hide = () => {
    highlight.setAttribute('visibility', 'hidden');
    tooltip.hidden = true;
  };
  svg.addEventListener('pointermove', (event) => {
    const rect = svg.getBoundingClientRect();
    const x = ((event.clientX - rect.left) / rect.width) * WIDTH - MARGIN.left;
    const index = Math.floor(x / band);
    if (index >= 0 && index < count) show(index);
    else hide();
  });
  svg.addEventListener('pointerleave', hide);
  svg.addEventListener('blur', hide);
  svg.addEventListener('keydown', (event) => {
    const moves = { ArrowRight: 1, ArrowLeft: -1 };
    if (event.key === 'Escape') hide();
    if (!(event.key in moves) || count === 0) return;
    event.preventDefault();
    show(active < 0 ? (moves[event.key] > 0 ? 0 : count - 1) : Math.min(count - 1, Math.max(0, active + moves[event.key])));
  });
  return figure;
}

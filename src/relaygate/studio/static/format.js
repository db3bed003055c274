// How numbers, money, durations and dates read in the Studio.

const integerFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
const dateTimeFormat = new Intl.DateTimeFormat('en-GB', {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
});
const timeFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dayFormat = new Intl.DateTimeFormat('en-GB', { month: 'short', day: 'numeric' });
const dateFormat = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'short', day: 'numeric' });
const hourFormat = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });

export const DASH = '—';

const isNumber = (n) => typeof n === 'number' && Number.isFinite(n);

export function integer(n) {
  return isNumber(n) ? integerFormat.format(n) : DASH;
}

export function compact(n) {
  if (!isNumber(n)) return DASH;
  return Math.abs(n) < 1000 ? integer(n) : compactFormat.format(n);
}

/** US dollars, with enough digits that a fraction of a cent is still visible. */
export function money(n) {
  if (!isNumber(n)) return DASH;
  if (n === 0) return '$0';
  const abs = Math.abs(n);
  let digits = 2;
  if (abs < 0.01) digits = Math.min(8, 2 - Math.floor(Math.log10(abs)) + 1);
  else if (abs < 1) digits = 4;
  let text = abs.toFixed(digits);
  // Keep cents, drop the zeros after them: $0.15, $0.000021, $12.50.
  while (text.endsWith('0') && text.length - text.indexOf('.') - 1 > 2) text = text.slice(0, -1);
  return (n < 0 ? '-$' : '$') + text;
}

export function milliseconds(n) {
  if (!isNumber(n)) return DASH;
  if (n >= 10000) return `${(n / 1000).toFixed(1)} s`;
  if (n >= 100) return `${Math.round(n)} ms`;
  return `${Math.round(n * 10) / 10} ms`;
}

export function toDate(value) {
  if (value === null || value === undefined || value === '') return null;
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function dateTime(value) {
  const date = toDate(value);
  return date ? dateTimeFormat.format(date) : DASH;
}

export function shortDate(value) {
  const date = toDate(value);
  return date ? dateFormat.format(date) : DASH;
}

export function clock(value) {
  const date = toDate(value);
  return date ? timeFormat.format(date) : DASH;
}

export function axisTime(date, interval) {
  return interval === 'hour' ? hourFormat.format(date) : dayFormat.format(date);
}

export function dayLabel(value) {
  const date = toDate(value);
  return date ? dayFormat.format(date) : DASH;
}

export function relativeTime(value, now = Date.now()) {
  const date = toDate(value);
  if (!date) return DASH;
  const seconds = Math.round((now - date.getTime()) / 1000);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 30) return `${days} day${days === 1 ? '' : 's'} ago`;
  return dateTime(date);
}

export function plural(n, one, many = `${one}s`) {
  return `${integer(n)} ${n === 1 ? one : many}`;
}

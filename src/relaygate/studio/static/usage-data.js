// Turning a GET /v2/usage answer into chart series: a continuous time axis, the largest groups
// kept by name and the rest folded into "Other".

const STEP_MS = { hour: 3600_000, day: 86_400_000 };
const MAX_GROUPS = 6;

export function floorToInterval(date, interval) {
  const d = new Date(date);
  if (interval === 'day') d.setUTCHours(0, 0, 0, 0);
  else d.setUTCMinutes(0, 0, 0);
  return d;
}

/** Every bucket start from `from` to `to`, plus any bucket the server returned off that grid. */
export function bucketAxis(from, to, interval, rows) {
  const step = STEP_MS[interval] ?? STEP_MS.hour;
  const times = new Set();
  const end = new Date(to).getTime();
  for (let t = floorToInterval(from, interval).getTime(); t < end && times.size < 2000; t += step) times.add(t);
  for (const row of rows) {
    const t = new Date(row.bucket).getTime();
    if (Number.isFinite(t)) times.add(t);
  }
  return [...times].sort((a, b) => a - b).map((t) => new Date(t));
}

/**
 * groupSeries(rows, buckets, metric, {groupOrder, labelFor}) -> [{name, values, other?}] aligned with buckets.
 * metric: 'requests' | 'total_tokens' | 'cost' | 'latency_ms_avg' | ...
 * Latency of a merged group is the average weighted by requests.
 */
export function groupSeries(rows, buckets, metric, { groupOrder, labelFor }) {
  const index = new Map(buckets.map((date, i) => [date.getTime(), i]));
  const isAverage = metric === 'latency_ms_avg';
  const byGroup = new Map();
  for (const row of rows) {
    const i = index.get(new Date(row.bucket).getTime());
    if (i === undefined) continue;
    const key = groupOrder.kept.has(row.group ?? null) ? (row.group ?? null) : '\u0000other';
    if (!byGroup.has(key)) byGroup.set(key, { sums: new Array(buckets.length).fill(0), weights: new Array(buckets.length).fill(0) });
    const entry = byGroup.get(key);
    const value = Number(row[metric] ?? 0);
    const weight = Number(row.requests ?? 0);
    if (isAverage) {
      entry.sums[i] += value * weight;
      entry.weights[i] += weight;
    } else {
      entry.sums[i] += value;
    }
  }
  const keys = [...groupOrder.kept];
  if (byGroup.has('\u0000other')) keys.push('\u0000other');
  return keys.filter((key) => byGroup.has(key) || !isAverage).map((key) => {
    const entry = byGroup.get(key) ?? { sums: new Array(buckets.length).fill(0), weights: new Array(buckets.length).fill(0) };
    const values = isAverage
      ? entry.sums.map((sum, i) => (entry.weights[i] > 0 ? sum / entry.weights[i] : null))
      : entry.sums;
    const other = key === '\u0000other';
    return { name: other ? 'Other' : labelFor(key), values, other };
  });
}

/** The groups to show by name: the ones with the most requests. */
export function rankGroups(rows) {
  const totals = new Map();
  for (const row of rows) totals.set(row.group ?? null, (totals.get(row.group ?? null) ?? 0) + Number(row.requests ?? 0));
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([group]) => group);
  const kept = ranked.length > MAX_GROUPS + 1 ? ranked.slice(0, MAX_GROUPS) : ranked;
  return { kept: new Set(kept), count: ranked.length };
}

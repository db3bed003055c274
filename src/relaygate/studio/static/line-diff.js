// Line diffs for comparing two versions side by side. Pure functions (no DOM), so node can test them.
//
// The longest common subsequence of the lines decides what stayed; what is left is removed (left
// side) or added (right side), and a removal next to an addition is shown as one changed row.

const MAX_CELLS = 4_000_000; // beyond this (2000 x 2000 lines) the middle is shown as replaced whole

/** [{op: 'same'|'del'|'add', a, b}] turning lines `a` into lines `b` (a, b: indexes into each). */
export function diffOps(a, b) {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA -= 1;
    endB -= 1;
  }
  const ops = [];
  for (let i = 0; i < start; i += 1) ops.push({ op: 'same', a: i, b: i });
  ops.push(...middleOps(a, b, start, endA, endB));
  for (let i = 0; endA + i < a.length; i += 1) ops.push({ op: 'same', a: endA + i, b: endB + i });
  return ops;
}

function middleOps(a, b, start, endA, endB) {
  const n = endA - start;
  const m = endB - start;
  const ops = [];
  if (n * m > MAX_CELLS) {
    for (let i = start; i < endA; i += 1) ops.push({ op: 'del', a: i });
    for (let j = start; j < endB; j += 1) ops.push({ op: 'add', b: j });
    return ops;
  }
  // lengths[i][j]: the LCS of a[start+i..endA) and b[start+j..endB), filled from the end.
  const lengths = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lengths[i][j] = a[start + i] === b[start + j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[start + i] === b[start + j]) {
      ops.push({ op: 'same', a: start + i, b: start + j });
      i += 1;
      j += 1;
    } else if (j < m && (i === n || lengths[i][j + 1] >= lengths[i + 1][j])) {
      ops.push({ op: 'add', b: start + j });
      j += 1;
    } else {
      ops.push({ op: 'del', a: start + i });
      i += 1;
    }
  }
  return ops;
}

/**
 * Rows for a side-by-side view: {kind: 'same'|'change'|'del'|'add', left: {n, text} | null, right: ...}.
 * Removals and additions between two unchanged lines are paired up in order.
 */
export function sideBySide(a, b) {
  const rows = [];
  let removed = [];
  let added = [];
  const flush = () => {
    for (let k = 0; k < Math.max(removed.length, added.length); k += 1) {
      const left = removed[k] ?? null;
      const right = added[k] ?? null;
      rows.push({ kind: left && right ? 'change' : left ? 'del' : 'add', left, right });
    }
    removed = [];
    added = [];
  };
  for (const op of diffOps(a, b)) {
    if (op.op === 'del') removed.push({ n: op.a + 1, text: a[op.a] });
    else if (op.op === 'add') added.push({ n: op.b + 1, text: b[op.b] });
    else {
      flush();
      rows.push({ kind: 'same', left: { n: op.a + 1, text: a[op.a] }, right: { n: op.b + 1, text: b[op.b] } });
    }
  }
  flush();
  return rows;
}

/** Long runs of unchanged rows cut down to `context` rows around each change, with a {kind: 'skip', count} row. */
export function folded(rows, context = 3) {
  const result = [];
  let run = [];
  const flush = (atStart, atEnd) => {
    const keepBefore = atStart ? 0 : context;
    const keepAfter = atEnd ? 0 : context;
    if (run.length <= keepBefore + keepAfter + 1) result.push(...run);
    else {
      result.push(...run.slice(0, keepBefore));
      result.push({ kind: 'skip', count: run.length - keepBefore - keepAfter });
      result.push(...run.slice(run.length - keepAfter));
    }
    run = [];
  };
  let seenChange = false;
  for (const row of rows) {
    if (row.kind === 'same') run.push(row);
    else {
      flush(!seenChange, false);
      seenChange = true;
      result.push(row);
    }
  }
  flush(!seenChange, true);
  return seenChange ? result : rows;
}

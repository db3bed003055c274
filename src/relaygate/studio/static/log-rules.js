// The request log pages' pure pieces (no DOM; tests/unit/test_studio_log_rules.py runs them in node).

export const BODY_VIEW_CHARS = 64 * 1024; // a stored body is already bounded; the view bounds it again

/** A stored body as people read it: indented JSON when it is JSON, else the text; bounded. */
export function prettyBody(text) {
  if (text === null || text === undefined) return null;
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // a stream's events, a cut body, an upload's note: shown as stored
  }
  if (shown.length > BODY_VIEW_CHARS) {
    shown = `${shown.slice(0, BODY_VIEW_CHARS)}\n… (${shown.length - BODY_VIEW_CHARS} more characters not shown)`;
  }
  return shown;
}

/** The query string of the log's filters (an empty value is left out). */
export function filterQuery(values) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== null && value !== undefined && value !== '') search.set(name, String(value));
  }
  return search;
}

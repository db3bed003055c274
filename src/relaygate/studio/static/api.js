// The one way the Studio talks to relaygate: the public /v2 and /v3/router APIs with the admin key.
// Every failure becomes an ApiError whose message is a sentence for people, never a JSON dump.

import { adminKey } from './session.js';
import { readEvents } from './sse.js';

export class ApiError extends Error {
  constructor(message, { status = 0, type = null, code = null, param = null, validation = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
    this.validation = validation;
  }
}

const STATUS_MESSAGES = {
  400: 'The server could not accept this request.',
  401: 'The admin key was not accepted. Sign in again with a valid admin key.',
  403: 'This key is not allowed to do that. The Studio needs an admin key.',
  404: 'Not found.',
  405: 'The server does not support this action.',
  409: 'This conflicts with something that already exists.',
  413: 'The request is too large.',
  422: 'Some fields are not valid.',
  429: 'Too many requests. Wait a moment and try again.',
  502: 'The upstream provider could not be reached.',
  503: 'The server is not available right now.',
  504: 'The upstream provider took too long to answer.',
};

function statusMessage(status) {
  if (STATUS_MESSAGES[status]) return STATUS_MESSAGES[status];
  if (status >= 500) return `The server had a problem (HTTP ${status}).`;
  return `The request failed (HTTP ${status}).`;
}

/** FastAPI-style {"detail": [{loc, msg}]} bodies, turned into one sentence. */
function detailMessage(detail) {
  if (typeof detail === 'string') return detail;
  if (!Array.isArray(detail)) return null;
  const parts = detail
    .filter((item) => item && typeof item.msg === 'string')
    .map((item) => {
      const loc = Array.isArray(item.loc) ? item.loc.filter((p) => p !== 'body').join('.') : '';
      return loc ? `${loc}: ${item.msg}` : item.msg;
    });
  return parts.length ? parts.join('; ') : null;
}

function firstParam(detail) {
  if (!Array.isArray(detail) || !detail[0] || !Array.isArray(detail[0].loc)) return null;
  const loc = detail[0].loc.filter((p) => p !== 'body');
  return loc.length ? String(loc[0]) : null;
}

/** Build the ApiError for an HTTP status and whatever body came with it (parsed JSON, text or null). */
export function errorFromBody(status, body) {
  if (body && typeof body === 'object') {
    const error = body.error && typeof body.error === 'object' ? body.error : null;
    const message = (error && typeof error.message === 'string' && error.message.trim())
      || (typeof body.error === 'string' && body.error)
      || detailMessage(body.detail)
      || (typeof body.message === 'string' && body.message)
      || statusMessage(status);
    return new ApiError(message, {
      status,
      type: error?.type ?? null,
      code: error?.code ?? null,
      param: error?.param ?? firstParam(body.detail),
      validation: body.validation ?? null,
    });
  }
  const text = typeof body === 'string' ? body.trim() : '';
  const readable = text && text.length <= 200 && !/[<{[]/.test(text[0]);
  return new ApiError(readable ? text : statusMessage(status), { status });
}

export function networkError(cause) {
  if (cause?.name === 'AbortError') return cause;
  return new ApiError(`Could not reach relaygate at ${location.origin}. Check that the server is running.`, {
    status: 0,
  });
}

let unauthorizedHandler = null;

/** Called once by the shell: what to do when the stored admin key stops working. */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  if ((response.headers.get('content-type') || '').includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * Send a request; returns the Response when it is 2xx, throws ApiError otherwise.
 * options: method, body (JSON-encoded for you), key (defaults to the session's), signal, accept,
 * and expectUnauthorized (do not sign out on 401, e.g. when checking a key at sign-in).
 */
export async function send(path, options = {}) {
  const { method = 'GET', body, key = adminKey(), signal, accept = 'application/json', headers = {} } = options;
  const init = { method, signal, headers: { Accept: accept, ...headers }, cache: 'no-store' };
  if (key) init.headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (cause) {
    throw networkError(cause);
  }
  if (response.ok) return response;
  const error = errorFromBody(response.status, await readBody(response).catch(() => null));
  if (response.status === 401 && !options.expectUnauthorized && unauthorizedHandler) unauthorizedHandler(error);
  throw error;
}

/** Send a request and return its JSON body. */
export async function api(path, options = {}) {
  const response = await send(path, options);
  return readBody(response);
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/**
 * A request that may answer with Server-Sent Events (Accept: text/event-stream) or plain JSON.
 * Calls onEvent({event, data}) for each event with its data parsed. Returns the data of the final
 * `event: <resultEvent>` (or the JSON body when the server answered JSON). Errors (HTTP status or
 * `event: error`) throw ApiError, with the probe report in .validation when there is one.
 */
export async function sendWithProgress(path, { method = 'POST', body, signal, onEvent, resultEvent = 'model' }) {
  const response = await send(path, { method, body, signal, accept: 'text/event-stream, application/json;q=0.9' });
  if (!(response.headers.get('content-type') || '').includes('text/event-stream')) return readBody(response);
  let result;
  for await (const event of readEvents(response)) {
    let data = event.data;
    try {
      data = JSON.parse(event.data);
    } catch {
      // not JSON: hand the text on as it is
    }
    if (event.event === 'error') throw errorFromBody(data?.error?.status ?? 400, data);
    if (event.event === resultEvent) result = data;
    else if (onEvent) onEvent({ event: event.event, data });
  }
  if (result === undefined) throw new ApiError('The server ended the stream before giving an answer.');
  return result;
}

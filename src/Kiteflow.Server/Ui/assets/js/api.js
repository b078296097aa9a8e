// The REST API client: same origin, the session cookie, the antiforgery token on every change, problems as errors.

let token = null;
let sessionPromise = null;

/** An error answer of the API: status, and the RFC 9457 problem (title, detail, errors keyed by field). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `The server answered ${status}.`);
    this.status = status;
    this.problem = problem ?? {};
  }
  get errors() { return this.problem.errors ?? {}; }
}

/** Who is logged in: {user, role, via}; also fetches the antiforgery token. */
export function session() {
  sessionPromise ??= fetch('/api/v1/session', { headers: { accept: 'application/json' } }).then(async (r) => {
    if (r.status === 401) { toLogin(); throw new ApiError(401, { title: 'Log in first' }); }
    const body = await r.json();
    token = body.antiforgeryToken;
    return body;
  });
  return sessionPromise;
}

export function toLogin() {
  location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
}

/**
 * Calls the API. body: an object (sent as JSON), a string / Blob (sent as is, with options.type), or undefined.
 * Answers the parsed JSON (or null for 204); throws ApiError for any status that is not 2xx.
 */
export async function api(method, path, body, options = {}) {
  const headers = { accept: 'application/json, application/problem+json' };
  if (method !== 'GET' && method !== 'HEAD') {
    if (!token && !options.noToken) await session();
    if (token) headers['X-CSRF-TOKEN'] = token;
  }
  let payload;
  if (body !== undefined && body !== null) {
    if (typeof body === 'string' || body instanceof Blob) { payload = body; headers['content-type'] = options.type ?? 'application/json'; }
    else { payload = JSON.stringify(body); headers['content-type'] = 'application/json'; }
  }
  const response = await fetch(path, { method, headers, body: payload, signal: options.signal, credentials: 'same-origin' });
  if (response.status === 401 && !options.noRedirect) { toLogin(); throw new ApiError(401, { title: 'Log in first' }); }
  const text = await response.text();
  let json = null;
  if (text) {
    try { json = JSON.parse(text); } catch { json = { detail: text }; }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, json);
    error.retryAfter = response.headers.get('retry-after');
    throw error;
  }
  return json;
}

export const get = (path, options) => api('GET', path, undefined, options);
export const post = (path, body, options) => api('POST', path, body ?? {}, options);
export const put = (path, body, options) => api('PUT', path, body, options);
export const del = (path, options) => api('DELETE', path, undefined, options);

/** Sets the token after logging in (the login answer carries it). */
export function useToken(value) { token = value; }

export const enc = encodeURIComponent;

// The one door to the API: same origin, bearer token, the error object
// turned into an ApiError, idempotency keys for money.

const STORE = "flock.session";

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || "Something went wrong.");
    this.status = status;
    this.code = error.code || "error";
    this.param = error.param || null;
    this.reasons = error.reasons || null;
  }
}

export const session = {
  load() {
    try {
      return JSON.parse(localStorage.getItem(STORE)) || null;
    } catch {
      return null;
    }
  },
  save(value) {
    localStorage.setItem(STORE, JSON.stringify(value));
  },
  clear() {
    localStorage.removeItem(STORE);
  },
};

let onSignedOut = () => {};
export function whenSignedOut(fn) {
  onSignedOut = fn;
}

/** A fresh key for one intent of the person (one form, one button). */
export function newKey() {
  return crypto.randomUUID();
}

async function refresh(current) {
  if (!current?.refresh_token) return false;
  const r = await fetch("/v1/auth/refresh", {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: current.refresh_token }),
  });
  if (!r.ok) return false;
  const answer = await r.json();
  session.save({ ...current, token: answer.token, refresh_token: answer.refresh_token });
  return true;
}

async function errorCode(response) {
  try {
    return (await response.clone().json()).error?.code;
  } catch {
    return null;
  }
}

/** api("POST", "/v1/transfers", {body, key, otp}) -> the answer's JSON
 * (null for 204); `raw: true` -> the Response. Throws ApiError. */
export async function api(method, path, { body, key, otp, raw = false, retried = false } = {}) {
  const current = session.load();
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (current?.token) headers.Authorization = `Bearer ${current.token}`;
  if (key) headers["Idempotency-Key"] = key;
  if (otp) headers["Flock-OTP"] = otp;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { code: "network", message: "Flock cannot be reached. Check the connection and try again." });
  }
  // Only a dead token ends the session here: a 401 `invalid_credentials` (a
  // mistyped current password or code) is the form's to show.
  if (response.status === 401 && current?.token && !path.startsWith("/v1/auth/") &&
      await errorCode(response) === "unauthenticated") {
    if (!retried && await refresh(current)) return api(method, path, { body, key, otp, raw, retried: true });
    session.clear();
    onSignedOut();
  }
  if (!response.ok) {
    let error = { message: `The request failed (${response.status}).` };
    try {
      error = (await response.json()).error || error;
    } catch { /* not JSON */ }
    throw new ApiError(response.status, error);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path) => api("GET", path);
export const post = (path, body, opts = {}) => api("POST", path, { body, ...opts });

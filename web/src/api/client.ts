// The typed client (openapi-fetch over the generated src/api/schema.d.ts) and a small
// untyped helper for endpoints the document does not describe yet (moderation, stream).
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";

const TOKEN_KEY = "ib.token";

export function getToken(): string | null {
  try { return localStorage.getItem(TOKEN_KEY); } catch { return null; }
}
export function setToken(token: string | null) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token); else localStorage.removeItem(TOKEN_KEY);
  } catch { /* private mode: the session lasts the tab */ }
}

export interface ApiError {
  status: number;
  code: string;
  message: string;
  fields?: Record<string, string>;
  details?: Record<string, unknown>;
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = getToken();
    if (token && !request.headers.has("Authorization")) {
      request.headers.set("Authorization", `Bearer ${token}`);
    }
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: typeof location === "undefined" ? "" : location.origin });
api.use(auth);

/** One error shape for every failure: the API's body, or a network problem. */
export function toError(status: number, body: unknown): ApiError {
  const err = (body as { error?: Partial<ApiError> } | null)?.error;
  if (err && typeof err.code === "string") {
    return { status, code: err.code, message: err.message || err.code, fields: err.fields, details: err.details };
  }
  if (status === 0) return { status, code: "network", message: "The server could not be reached. Check your connection and retry." };
  return { status, code: "http_" + status, message: `The server answered ${status}.` };
}

export type Result<T> = { ok: true; data: T; response: Response } | { ok: false; error: ApiError };

/** Unwraps an openapi-fetch call into a Result (never throws). */
export async function run<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<Result<T>> {
  try {
    const { data, error, response } = await call;
    if (response.ok) return { ok: true, data: data as T, response };
    return { ok: false, error: toError(response.status, error) };
  } catch {
    return { ok: false, error: toError(0, null) };
  }
}

/** Untyped request for endpoints outside the generated document. */
export async function raw<T>(method: string, path: string, body?: unknown): Promise<Result<T>> {
  const headers: Record<string, string> = {};
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
  try {
    const response = await fetch(path, { method, headers, body: payload });
    const text = await response.text();
    let parsed: unknown = null;
    try { parsed = text ? JSON.parse(text) : null; } catch { parsed = text; }
    if (response.ok) return { ok: true, data: parsed as T, response };
    return { ok: false, error: toError(response.status, parsed) };
  } catch {
    return { ok: false, error: toError(0, null) };
  }
}

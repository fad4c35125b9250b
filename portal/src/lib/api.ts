/**
 * The portal's one API client (design §6.2).
 *
 * Every request carries `Authorization: Bearer <access token>` and a fresh `X-Request-ID`.
 * A 401 `TOKEN_EXPIRED` triggers one refresh (a single refresh in flight for the whole
 * page, and across tabs through a Web Lock, because refresh tokens rotate and a reused
 * one revokes the session) and the request is retried once with the new token. When the
 * refresh is refused, or the API says the token is invalid, the session ends and the app
 * goes back to the sign-in page.
 *
 * Paths, parameters and bodies are typed from the backend's OpenAPI document
 * (openapi-fetch over the generated `paths`), so a contract change fails `tsc`.
 */
import createClient from "openapi-fetch";

import type { paths } from "./api-schema";
import type { TokenPair } from "./api-types";
import { session } from "./session";

export const API_PREFIX = "/api/v1";

/** One entry of an error's `details` (validation errors: `{field, issue, message}`). */
export type ErrorDetail = Record<string, unknown> & {
  field?: string;
  issue?: string;
  message?: string;
};

/** A failure in the backend's error contract, or a network failure (`status` 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];
  readonly requestId: string | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details: ErrorDetail[] = [],
    requestId: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }

  /** Messages for one form field, from `details[].field` (last path segment matches too). */
  fieldMessages(field: string): string[] {
    return this.details
      .filter((d) => {
        const f = typeof d.field === "string" ? d.field : "";
        return f === field || f.endsWith(`.${field}`) || f.startsWith(`${field}.`);
      })
      .map(detailMessage);
  }

  get isNetwork(): boolean {
    return this.status === 0;
  }
}

const ISSUES: Record<string, string> = {
  missing: "This is required.",
  required: "This is required.",
  mismatch: "This does not match.",
  invalid: "This value is not valid.",
  taken: "This is already taken.",
  too_large: "This is too large.",
  unsupported_type: "This type is not supported.",
};

/** A person's sentence for one entry of an error's details. */
export function detailMessage(detail: ErrorDetail): string {
  let text =
    (typeof detail.message === "string" && detail.message) ||
    (typeof detail.issue === "string" &&
      (ISSUES[detail.issue] ?? detail.issue.replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase()))) ||
    "This value is not accepted.";
  if (typeof detail.attempts_remaining === "number") {
    text += ` ${detail.attempts_remaining} ${detail.attempts_remaining === 1 ? "attempt" : "attempts"} left.`;
  }
  if (typeof detail.retry_after === "number") text += ` Try again in ${detail.retry_after} s.`;
  return text;
}

export const NETWORK_ERROR_MESSAGE = "Cannot reach the canteen server. Check the connection; nothing was changed.";

export async function toApiError(response: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await response.clone().json();
  } catch {
    // not JSON (a proxy's error page, say)
  }
  return apiErrorFrom(response, body);
}

/** An ApiError from a response and its already-parsed body. */
export function apiErrorFrom(response: Response, body: unknown): ApiError {
  const requestId = response.headers.get("X-Request-ID");
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (error && typeof error.code === "string") {
    return new ApiError(
      response.status,
      error.code,
      typeof error.message === "string" ? error.message : response.statusText,
      Array.isArray(error.details) ? (error.details as ErrorDetail[]) : [],
      requestId,
    );
  }
  return new ApiError(
    response.status,
    response.status >= 500 ? "INTERNAL_ERROR" : `HTTP_${response.status}`,
    response.status >= 500
      ? "Something went wrong on the server. Try again."
      : `The server answered ${response.status} ${response.statusText}`.trim(),
    [],
    requestId,
  );
}

/** An absolute URL for an API path on this origin. */
export function apiUrl(path: string): string {
  return new URL(path, baseUrl()).toString();
}

export function newRequestId(): string {
  return globalThis.crypto.randomUUID();
}

// ---- refresh: a single refresh in flight ----------------------------------------------

type RefreshOutcome = "refreshed" | "rejected";
let inflight: Promise<RefreshOutcome> | null = null;

/**
 * Trade the refresh token for a new pair. `staleAccessToken` is the token the failed
 * request carried: when the stored token is already different, someone else (another
 * request, another tab) has refreshed and nothing is sent.
 * Resolves "rejected" when the server refuses (the session is then ended); throws an
 * ApiError with status 0 when the server cannot be reached (the session is kept).
 */
export function refreshSession(staleAccessToken?: string): Promise<RefreshOutcome> {
  if (!inflight) {
    inflight = withCrossTabLock(() => doRefresh(staleAccessToken)).finally(() => {
      inflight = null;
    });
  }
  return inflight;
}

async function withCrossTabLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (locks?.request) {
    return locks.request("canteen-portal-refresh", fn) as Promise<T>;
  }
  return fn();
}

async function doRefresh(staleAccessToken?: string): Promise<RefreshOutcome> {
  const before = session.reload();
  if (!before) return "rejected";
  if (staleAccessToken && before.accessToken !== staleAccessToken) return "refreshed";
  let response: Response;
  try {
    response = await fetch(apiUrl(`${API_PREFIX}/auth/refresh`), {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Request-ID": newRequestId() },
      body: JSON.stringify({ refresh_token: before.refreshToken }),
    });
  } catch {
    throw new ApiError(0, "NETWORK_ERROR", NETWORK_ERROR_MESSAGE);
  }
  if (response.ok) {
    const body = (await response.json()) as { data: TokenPair };
    session.set({
      ...before,
      accessToken: body.data.access_token,
      refreshToken: body.data.refresh_token,
      accessExpiresAt: Date.now() + body.data.expires_in * 1000,
    });
    return "refreshed";
  }
  if (response.status >= 500) {
    throw await toApiError(response);
  }
  const error = await toApiError(response);
  session.clear(error.details.some((d) => d.reason === "refresh_token_reused") ? "revoked" : "expired");
  return "rejected";
}

// ---- the fetch every API call goes through --------------------------------------------

/**
 * fetch with the auth header, a request id, and one refresh-and-retry on TOKEN_EXPIRED.
 * Used by the typed client below and by the SSE reader (src/lib/sse.ts).
 */
export async function authFetch(request: Request): Promise<Response> {
  const retry = request.clone(); // bodies can be read once: keep a copy for the retry
  const token = session.get()?.accessToken;
  const first = await send(request, token);
  if (first.status !== 401 || !token) return first;

  const error = await toApiError(first);
  if (error.code !== "TOKEN_EXPIRED") {
    // INVALID_TOKEN (revoked, deactivated account, signed out elsewhere): sign in again.
    session.clear("expired");
    return first;
  }
  const outcome = await refreshSession(token);
  if (outcome !== "refreshed") return first;
  const again = await send(retry, session.get()?.accessToken);
  if (again.status === 401) session.clear("expired");
  return again;
}

async function send(request: Request, token: string | undefined): Promise<Response> {
  const headers = new Headers(request.headers);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  headers.set("X-Request-ID", newRequestId());
  try {
    return await fetch(new Request(request, { headers }));
  } catch (cause) {
    if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
    throw new ApiError(0, "NETWORK_ERROR", NETWORK_ERROR_MESSAGE);
  }
}

function baseUrl(): string {
  const origin = globalThis.location?.origin;
  return origin && origin !== "null" ? origin : "http://localhost";
}

/** The typed client: `api.GET("/api/v1/admin/orders", { params: { query } })`. */
export const api = createClient<paths>({
  baseUrl: baseUrl(),
  fetch: authFetch,
  headers: { Accept: "application/json" },
});

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The `data` of a successful answer, or throw the contract's error as an ApiError. */
export async function unwrap<T>(pending: Promise<FetchResult<T>>): Promise<T> {
  const result = await pending;
  if (!result.response.ok) throw apiErrorFrom(result.response, result.error);
  return result.data as T;
}

/** Like unwrap, for `{data: X}` envelopes: returns X. */
export async function data<T extends { data: unknown }>(pending: Promise<FetchResult<T>>): Promise<T["data"]> {
  return (await unwrap(pending)).data;
}

/** A message for any thrown value, for toasts and form banners. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong. Try again.";
}

/**
 * The order-status display's API: the board snapshot and the stream, signed in with a
 * display token (not a staff session), and the admin's display tokens.
 *
 * A display token opens these two endpoints and nothing else; it is sent as a Bearer
 * header (the stream too: the SSE reader uses fetch, so no token sits in a URL).
 */
import { API_PREFIX, authFetch, NETWORK_ERROR_MESSAGE, ApiError, apiUrl, toApiError } from "@/lib/api";

export type DisplayStatus = "confirmed" | "preparing" | "ready";

export interface DisplayOrder {
  order_id: string;
  order_number: string;
  status: DisplayStatus;
}

export interface DisplayBoardSnapshot {
  last_event_id: number;
  preparing: DisplayOrder[];
  ready: DisplayOrder[];
}

export interface DisplayInfo {
  id: string;
  name: string;
  hint: string;
  created_at: string;
  revoked_at: string | null;
}

export interface CreatedDisplay extends DisplayInfo {
  /** Shown once, in the answer to the create. */
  token: string;
}

export const DISPLAY_STREAM_PATH = `${API_PREFIX}/display/stream`;

/** fetch with the display's token (for the snapshot and the SSE reader). */
export function displayFetcher(token: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const headers = new Headers(request.headers);
    headers.set("Authorization", `Bearer ${token}`);
    try {
      return await fetch(new Request(request, { headers }));
    } catch (cause) {
      if (cause instanceof DOMException && cause.name === "AbortError") throw cause;
      throw new ApiError(0, "NETWORK_ERROR", NETWORK_ERROR_MESSAGE);
    }
  };
}

export async function fetchDisplayBoard(token: string): Promise<DisplayBoardSnapshot> {
  const response = await displayFetcher(token)(
    new Request(apiUrl(`${API_PREFIX}/display/orders`), { headers: { Accept: "application/json" } }),
  );
  if (!response.ok) throw await toApiError(response);
  return ((await response.json()) as { data: DisplayBoardSnapshot }).data;
}

async function adminCall<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await authFetch(
    new Request(apiUrl(`${API_PREFIX}${path}`), {
      method,
      headers: { Accept: "application/json", ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  if (!response.ok) throw await toApiError(response);
  return ((await response.json()) as { data: T }).data;
}

export const listDisplays = () => adminCall<DisplayInfo[]>("GET", "/admin/displays");
export const createDisplay = (name: string) => adminCall<CreatedDisplay>("POST", "/admin/displays", { name });
export const revokeDisplay = (id: string) => adminCall<DisplayInfo>("POST", `/admin/displays/${id}/revoke`);

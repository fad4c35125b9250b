/**
 * The signed-in staff member's tokens, kept in localStorage (design §6.2) so a reload or a
 * second tab stays signed in. One store per page; other tabs' changes arrive through the
 * `storage` event, so a refresh or a sign-out in one tab is seen by all of them.
 */
import type { UserOut } from "./api-types";

export interface StoredSession {
  accessToken: string;
  refreshToken: string;
  /** Epoch milliseconds (client clock) after which the access token is expired. */
  accessExpiresAt: number;
  user: UserOut;
}

export type EndReason = "signed_out" | "expired" | "revoked" | null;

const KEY = "canteen.portal.session";
type Listener = () => void;

let current: StoredSession | null = read();
let endReason: EndReason = null;
const listeners = new Set<Listener>();

function read(): StoredSession | null {
  try {
    const raw = globalThis.localStorage?.getItem(KEY);
    if (!raw) return null;
    const value = JSON.parse(raw) as Partial<StoredSession>;
    if (
      typeof value.accessToken === "string" &&
      typeof value.refreshToken === "string" &&
      typeof value.accessExpiresAt === "number" &&
      value.user
    ) {
      return value as StoredSession;
    }
  } catch {
    // A damaged entry is the same as no session.
  }
  return null;
}

function emit(): void {
  for (const listener of listeners) listener();
}

if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.key !== KEY && event.key !== null) return;
    const next = read();
    if (next?.accessToken === current?.accessToken && next?.refreshToken === current?.refreshToken) {
      return;
    }
    if (!next && current) endReason = "signed_out";
    current = next;
    emit();
  });
}

export const session = {
  get(): StoredSession | null {
    return current;
  },
  /** Why the last session ended (shown on the sign-in page), until the next sign-in. */
  endReason(): EndReason {
    return endReason;
  },
  set(next: StoredSession): void {
    current = next;
    endReason = null;
    try {
      localStorage.setItem(KEY, JSON.stringify(next));
    } catch {
      // Private mode or a full quota: the session lives for this page only.
    }
    emit();
  },
  /** Re-read what another tab may have written (used inside the cross-tab refresh lock). */
  reload(): StoredSession | null {
    current = read();
    return current;
  },
  clear(reason: Exclude<EndReason, null>): void {
    if (!current && endReason) return;
    current = null;
    endReason = reason;
    try {
      localStorage.removeItem(KEY);
    } catch {
      // nothing stored
    }
    emit();
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

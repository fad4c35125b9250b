import { useSyncExternalStore } from "react";

import { session, type StoredSession } from "@/lib/session";

export function useSession(): StoredSession | null {
  return useSyncExternalStore(session.subscribe, session.get, session.get);
}

export function useIsAdmin(): boolean {
  return useSession()?.user.role === "admin";
}

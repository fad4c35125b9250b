import { type QueryKey, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { useStore } from "@/lib/store";

import { feedStore } from "./stores";

/** Several events in a burst (placed, paid, confirmed) read the query once. */
export const FEED_SETTLE_MS = 400;

/**
 * Reads `queryKey` again after each burst of kitchen events. The layout's kitchen stream
 * (useKitchenFeed) moves `feedStore.lastSeq`, so a page that lists orders follows the
 * kitchen live without opening a second stream.
 */
export function useRefreshOnFeed(queryKey: QueryKey, settleMs = FEED_SETTLE_MS): void {
  const queryClient = useQueryClient();
  const { lastSeq } = useStore(feedStore);
  const key = JSON.stringify(queryKey);
  useEffect(() => {
    if (lastSeq === null) return;
    const timer = setTimeout(
      () => void queryClient.invalidateQueries({ queryKey: JSON.parse(key) as QueryKey }),
      settleMs,
    );
    return () => clearTimeout(timer);
  }, [lastSeq, queryClient, settleMs, key]);
}

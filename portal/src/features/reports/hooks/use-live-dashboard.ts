import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { feedStore } from "@/features/board/hooks/stores";
import { useStore } from "@/lib/store";

import { fetchDashboard } from "../api/reports";

export const dashboardKey = ["reports", "dashboard"] as const;
/** Several events in a burst (placed, paid, confirmed) read the dashboard once. */
const SETTLE_MS = 400;

/**
 * The dashboard, read again after each burst of kitchen events: the layout's kitchen
 * stream (useKitchenFeed) moves `feedStore.lastSeq`, so no second stream is opened.
 */
export function useLiveDashboard(settleMs = SETTLE_MS) {
  const queryClient = useQueryClient();
  const { lastSeq } = useStore(feedStore);
  const query = useQuery({ queryKey: dashboardKey, queryFn: fetchDashboard, refetchInterval: 60_000 });
  useEffect(() => {
    if (lastSeq === null) return;
    const timer = setTimeout(() => void queryClient.invalidateQueries({ queryKey: dashboardKey }), settleMs);
    return () => clearTimeout(timer);
  }, [lastSeq, queryClient, settleMs]);
  return query;
}

import { useQuery } from "@tanstack/react-query";

import { FEED_SETTLE_MS, useRefreshOnFeed } from "@/features/board/hooks/use-feed-refresh";

import { fetchDashboard } from "../api/reports";

export const dashboardKey = ["reports", "dashboard"] as const;

/** The dashboard, read again after each burst of kitchen events (no second stream). */
export function useLiveDashboard(settleMs = FEED_SETTLE_MS) {
  const query = useQuery({ queryKey: dashboardKey, queryFn: fetchDashboard, refetchInterval: 60_000 });
  useRefreshOnFeed(dashboardKey, settleMs);
  return query;
}

import { useStore } from "@/lib/store";

import { feedStore } from "../hooks/stores";

const TEXT = {
  live: "Live",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  stopped: "Offline",
} as const;

/** The live feed's health, always visible: a kitchen must know when the board is stale. */
export function FeedStatus() {
  const feed = useStore(feedStore);
  return (
    <span
      className={`feed-status feed-${feed.status}`}
      role="status"
      data-last-seq={feed.lastSeq ?? ""}
      title={feed.detail ?? (feed.lastSeq !== null ? `Last event #${feed.lastSeq}` : undefined)}
    >
      <span className="feed-dot" aria-hidden="true" />
      <span className="visually-hidden">Order feed: </span>
      {TEXT[feed.status]}
    </span>
  );
}

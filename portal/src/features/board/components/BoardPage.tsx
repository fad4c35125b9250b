import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";

import { Button } from "@/components/Button";
import { LoadError, Loading } from "@/components/States";
import { useStore } from "@/lib/store";

import { ageLevel, ageSeconds, allDay, column } from "../hooks/board-state";
import { alertStore, boardStore } from "../hooks/stores";
import { boardSnapshotKey, loadBoard } from "../hooks/use-kitchen-feed";
import { useNow } from "../hooks/use-now";
import { useStationView } from "../hooks/use-station-view";
import { AllDayPanel } from "./AllDayPanel";
import { NotCollected } from "./NotCollected";
import { RecentMoves } from "./RecentMoves";
import { Ticket } from "./Ticket";
import "../styles/floor.css";

const COLUMNS = [
  { key: "received", title: "Awaiting payment", statuses: ["received"], empty: "No unpaid UPI orders." },
  { key: "confirmed", title: "New", statuses: ["confirmed"], empty: "No new orders." },
  { key: "preparing", title: "Preparing", statuses: ["preparing"], empty: "Nothing on the stove." },
  { key: "ready", title: "Ready", statuses: ["ready"], empty: "Nothing waiting for pickup." },
  { key: "out_for_delivery", title: "Out for delivery", statuses: ["out_for_delivery"], empty: "No deliveries out." },
] as const;

const ALL_DAY_KEY = "canteen.portal.allDay";

export function BoardPage() {
  const queryClient = useQueryClient();
  const snapshot = useQuery({
    queryKey: boardSnapshotKey,
    queryFn: () => loadBoard(queryClient),
    staleTime: Infinity,
    refetchOnMount: "always",
  });
  const board = useStore(boardStore);
  const { fresh } = useStore(alertStore);
  const now = useNow(1000);
  const [showAllDay, setShowAllDay] = useState(() => localStorage.getItem(ALL_DAY_KEY) !== "off");
  const station = useStationView(board);
  const view = station.view; // one station's lines only, or the whole board
  const lines = useMemo(() => allDay(view), [view]);
  const columns = useMemo(
    () => COLUMNS.map((c) => ({ ...c, orders: column(view, c.statuses).map((o) => board.orders[o.id] ?? o) })),
    [view, board],
  );
  const total = columns.reduce((sum, c) => sum + c.orders.length, 0);

  useEffect(() => {
    localStorage.setItem(ALL_DAY_KEY, showAllDay ? "on" : "off");
  }, [showAllDay]);

  const { refetch } = snapshot;
  useEffect(() => {
    // Board shortcuts: "a" shows or hides the all-day panel, "r" reloads the tickets.
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target as HTMLElement | null;
      if (target?.closest("input, textarea, select, [contenteditable], dialog")) return;
      if (event.key === "a") setShowAllDay((v) => !v);
      if (event.key === "r") void refetch();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [refetch]);

  return (
    <div className={`board-page ${showAllDay ? "with-all-day" : ""}`}>
      <div className="page-head board-head">
        <h1>
          Live board{" "}
          <span className="count" aria-label={`${total} active orders`}>
            {total}
          </span>
        </h1>
        <div className="board-tools">
          {station.picker}
          <Button
            size="sm"
            variant="ghost"
            aria-pressed={showAllDay}
            aria-keyshortcuts="a"
            onClick={() => setShowAllDay((v) => !v)}
          >
            All day
          </Button>
          <Button
            size="sm"
            variant="ghost"
            aria-keyshortcuts="r"
            busy={snapshot.isFetching}
            onClick={() => void snapshot.refetch()}
          >
            Reload
          </Button>
        </div>
      </div>
      {snapshot.isError && total === 0 ? (
        <LoadError error={snapshot.error} retry={() => void snapshot.refetch()} />
      ) : null}
      {snapshot.isPending && total === 0 ? <Loading label="Loading the board…" /> : null}
      <RecentMoves now={now} />
      <NotCollected />
      <div className="board-body">
        {showAllDay ? <AllDayPanel lines={lines} /> : null}
        <div className="board-columns">
          {columns.map((c) => (
            <section key={c.key} className={`board-column column-${c.key}`} aria-labelledby={`col-${c.key}`}>
              <h2 id={`col-${c.key}`}>
                {c.title} <span className="count">{c.orders.length}</span>
              </h2>
              {c.orders.length ? (
                <ol className="tickets">
                  {c.orders.map((order) => (
                    <Ticket
                      key={order.id}
                      order={order}
                      age={ageSeconds(order, board, now)}
                      level={ageLevel(order, board, now)}
                      fresh={Boolean(fresh[order.id])}
                      now={order.status === "ready" ? now : undefined /* the recall window; others stay memoised */}
                      stations={station.linesOf(order)}
                    />
                  ))}
                </ol>
              ) : (
                <p className="column-empty">{c.empty}</p>
              )}
            </section>
          ))}
        </div>
      </div>
    </div>
  );
}

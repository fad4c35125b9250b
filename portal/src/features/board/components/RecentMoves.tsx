import { useState } from "react";

import { Button } from "@/components/Button";
import { useStore } from "@/lib/store";

import { departed, RECALL_WINDOW_MS, recentStore, type RecentMove } from "../hooks/recall";
import { RecallDialog } from "./RecallDialog";

const DONE: Record<string, string> = { completed: "Handed over", cancelled: "Cancelled" };

/** Tickets the kitchen took off the board in the last 5 minutes, each with Recall. */
export function RecentMoves({ now }: { now: number }) {
  const moves = departed(useStore(recentStore), now);
  const [open, setOpen] = useState<RecentMove | null>(null);
  if (moves.length === 0) return null;
  return (
    <section className="recent-moves" aria-labelledby="recent-moves-title">
      <h2 id="recent-moves-title">Just moved</h2>
      <ul>
        {moves.map((move) => {
          const left = Math.max(0, Math.ceil((move.at + RECALL_WINDOW_MS - now) / 60_000));
          return (
            <li key={move.orderId} data-order-number={move.number}>
              <span className="recent-number">{move.number.replace(/^ORD-\d{8}-/, "#")}</span>{" "}
              <span className="visually-hidden">({move.number}) </span>
              {DONE[move.to] ?? move.to}
              <span className="recent-left"> · {left} min to recall</span>
              <Button size="sm" onClick={() => setOpen(move)} aria-label={`Recall ${move.number}`}>
                Recall
              </Button>
            </li>
          );
        })}
      </ul>
      {open ? <RecallDialog key={open.orderId} move={open} open onClose={() => setOpen(null)} /> : null}
    </section>
  );
}

/**
 * Recall on the board: the kitchen moves (ready, handover, staff cancel) of the last five
 * minutes, learnt from the kitchen stream, so a mistaken one can be put back (the API
 * checks the window again; this only decides where a Recall button shows).
 */
import type { KitchenEvent } from "@/lib/sse";
import { createStore } from "@/lib/store";

export const RECALL_WINDOW_MS = 5 * 60_000;
const RECALLABLE = new Set(["ready", "completed", "cancelled"]);
const STAFF = new Set(["kitchen", "admin"]);

export interface RecentMove {
  orderId: string;
  number: string;
  from: string;
  to: string;
  /** When the move happened, on this device's clock (ms). */
  at: number;
}

export const recentStore = createStore<Record<string, RecentMove>>({});

/** Remember a kitchen move from its event (`clockOffsetMs`: server minus device clock). */
export function noteMove(event: KitchenEvent, clockOffsetMs: number): void {
  const { from, to, actor } = event.data as { from?: string; to?: string; actor?: string };
  if (event.type !== "order.status_changed" || !event.order_id || !to || !from) return;
  if (!RECALLABLE.has(to) || !STAFF.has(actor ?? "")) {
    forgetMove(event.order_id); // a later move (or the student's) replaces it
    return;
  }
  const move: RecentMove = {
    orderId: event.order_id,
    number: event.order_number ?? "",
    from,
    to,
    at: Date.parse(event.at) - clockOffsetMs,
  };
  recentStore.set((moves) => ({ ...moves, [move.orderId]: move }));
}

export function forgetMove(orderId: string): void {
  recentStore.set((moves) => {
    if (!moves[orderId]) return moves;
    const { [orderId]: _gone, ...rest } = moves;
    return rest;
  });
}

export function recallable(move: RecentMove | undefined, now: number): move is RecentMove {
  return move !== undefined && now - move.at < RECALL_WINDOW_MS;
}

/** Moves that took a ticket off the board (handed over, cancelled), newest first. */
export function departed(moves: Record<string, RecentMove>, now: number): RecentMove[] {
  return Object.values(moves)
    .filter((m) => m.to !== "ready" && recallable(m, now))
    .sort((a, b) => b.at - a.at);
}

export function resetRecall(): void {
  recentStore.set({});
}

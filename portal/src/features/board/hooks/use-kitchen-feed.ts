/**
 * The live feed behind the board: one SSE stream per signed-in kitchen page, feeding the
 * board store, the new-order alerts and the caches of the other pages.
 *
 * Order events are notices, not state: for each one the order is read back from the API
 * (GET /admin/orders/{id}), which carries `allowed_next` and the rest of the ticket, and
 * merged by `updated_at`. Events are de-duplicated by sequence in src/lib/sse.ts, tickets by
 * order id in the store; together nothing is missed or shown twice across reconnects.
 */
import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import { ApiError, API_PREFIX } from "@/lib/api";
import { KitchenStream, type KitchenEvent } from "@/lib/sse";
import { useStore } from "@/lib/store";

import { fetchActiveOrders, fetchOrder } from "../api/orders";
import { forgetMove, noteMove } from "./recall";
import { applyLineEvent, feedStationStore, marksKey } from "./stations-view";
import { alertSound } from "./sound";
import { alertStore, boardStore, feedStore, mergeOrder, mergeSnapshot, reopenOrder } from "./stores";

export const boardSnapshotKey = ["board", "snapshot"] as const;
/** How long a new ticket stays highlighted, and the alert banner stays up. */
const FRESH_MS = 60_000;
const BANNER_MS = 20_000;

/** Read one order back and merge it into the board (and the order detail cache). */
export async function refreshOrder(queryClient: QueryClient, orderId: string): Promise<void> {
  try {
    const order = await fetchOrder(orderId);
    mergeOrder(order, Date.now());
    queryClient.setQueryData(["order", orderId], order);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return;
    throw error;
  }
}

/** The board's snapshot loader: every active order, merged into the store. */
export async function loadBoard(queryClient: QueryClient): Promise<number> {
  const { orders, answeredAt } = await fetchActiveOrders();
  const missing = mergeSnapshot(orders, answeredAt);
  await Promise.all(missing.map((id) => refreshOrder(queryClient, id).catch(() => undefined)));
  return orders.length;
}

function summary(event: KitchenEvent): string {
  const items = Array.isArray(event.data.items) ? (event.data.items as { name?: string; quantity?: number }[]) : [];
  return items.map((i) => `${i.quantity ?? 1}× ${i.name ?? "item"}`).join(", ");
}

export function noteNewOrder(event: KitchenEvent): void {
  const orderId = event.order_id;
  if (!orderId) return;
  const board = boardStore.get();
  const state = alertStore.get();
  if (state.seen[orderId] || board.closed[orderId]) return;
  const at = Date.now();
  alertStore.set((s) => ({
    alerts: [...s.alerts.slice(-4), { orderId, number: event.order_number ?? "New order", items: summary(event), at }],
    fresh: { ...s.fresh, [orderId]: at },
    seen: { ...s.seen, [orderId]: true },
  }));
  alertSound();
  setTimeout(() => {
    alertStore.set((s) => ({ ...s, alerts: s.alerts.filter((a) => !(a.orderId === orderId && a.at === at)) }));
  }, BANNER_MS);
  setTimeout(() => {
    alertStore.set((s) => {
      if (s.fresh[orderId] !== at) return s;
      const { [orderId]: _old, ...fresh } = s.fresh;
      return { ...s, fresh, alerts: s.alerts.filter((a) => a.orderId !== orderId) };
    });
  }, FRESH_MS);
}

export interface FeedHandlers {
  onEvent: (event: KitchenEvent) => void;
  onHello: (hello: { replay: boolean }) => void;
  flush: () => Promise<void>;
}

/** The event handling, apart from React (unit-tested directly). */
export function feedHandlers(queryClient: QueryClient, flushDelayMs = 25): FeedHandlers {
  const pending = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  const flush = async () => {
    timer = null;
    const ids = [...pending];
    pending.clear();
    await Promise.all(ids.map((id) => refreshOrder(queryClient, id).catch(() => undefined)));
  };

  return {
    flush,
    onHello: ({ replay }) => {
      // A fresh stream starts at "now": load the board after it is open, so nothing falls
      // between the list and the stream. A resumed stream replays what was missed instead.
      if (!replay) {
        void queryClient.invalidateQueries({ queryKey: boardSnapshotKey });
        void queryClient.invalidateQueries({ queryKey: marksKey });
      }
    },
    onEvent: (event) => {
      feedStore.set((s) => ({ ...s, lastSeq: event.seq, applied: s.applied + 1 }));
      if (event.type.startsWith("order.") && event.order_id) {
        if (event.type === "order.created") noteNewOrder(event);
        if (event.type === "order.status_changed") noteMove(event, boardStore.get().clockOffsetMs);
        if (event.type === "order.line_done") applyLineEvent(queryClient, event);
        if (event.type === "order.recalled") {
          // Put back (possibly by another tablet): the ticket may return from completed/cancelled.
          forgetMove(event.order_id);
          reopenOrder(event.order_id);
        }
        pending.add(event.order_id);
        if (!timer) timer = setTimeout(() => void flush(), flushDelayMs);
        void queryClient.invalidateQueries({ queryKey: ["orders"] });
        return;
      }
      if (event.type === "menu.updated") {
        void queryClient.invalidateQueries({ queryKey: ["menu"] });
      } else if (event.type === "config.updated") {
        void queryClient.invalidateQueries({ queryKey: ["config"] });
        void queryClient.invalidateQueries({ queryKey: ["public-config"] });
        void queryClient.invalidateQueries({ queryKey: ["time-slots"] });
      }
    },
  };
}

/** The kitchen stream, or its filter for one station ("" = every order). */
export function kitchenStreamPath(stationId: string): string {
  const whole = `${API_PREFIX}/admin/orders/stream`;
  return stationId ? `${whole}?station=${encodeURIComponent(stationId)}` : whole;
}

export function useKitchenFeed(enabled: boolean): void {
  const queryClient = useQueryClient();
  const station = useStore(feedStationStore);
  useEffect(() => {
    if (!enabled) return;
    const handlers = feedHandlers(queryClient);
    // A switch of station starts a fresh stream (no resume position): its hello reloads
    // the board, since the events one filter left out were never read. Reconnects within
    // one stream resume by Last-Event-ID as always.
    const stream = new KitchenStream({
      path: kitchenStreamPath(station),
      onEvent: handlers.onEvent,
      onHello: handlers.onHello,
      onStatus: (status, detail) => feedStore.set((s) => ({ ...s, status, detail })),
    });
    stream.start();
    const online = () => stream.reconnectNow();
    window.addEventListener("online", online);
    return () => {
      window.removeEventListener("online", online);
      stream.stop();
    };
  }, [enabled, queryClient, station]);
}

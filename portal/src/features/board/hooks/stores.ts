/** Client state of the live board: the tickets, the feed's health and new-order alerts. */
import type { KitchenOrder } from "@/lib/api-types";
import type { StreamStatus } from "@/lib/sse";
import { createStore } from "@/lib/store";

import type { BoardData } from "../types";
import { applyOrder, applySnapshot, CANCELLED_SHOWN_MS, emptyBoard, expireLeaving, reopen } from "./board-state";
import { resetRecall } from "./recall";
import { cancelSound } from "./sound";

export const boardStore = createStore<BoardData>(emptyBoard());

export function mergeOrder(order: KitchenOrder, answeredAt?: number): void {
  const before = boardStore.get().leaving[order.id];
  boardStore.set((board) => applyOrder(board, order, answeredAt));
  if (!before && boardStore.get().leaving[order.id]) {
    // A customer cancelled a ticket on screen: a distinct sound, then it leaves in a minute.
    cancelSound();
    setTimeout(() => boardStore.set((board) => expireLeaving(board, Date.now())), CANCELLED_SHOWN_MS + 50);
  }
}

/** The order was recalled from completed or cancelled: it may come back. */
export function reopenOrder(orderId: string): void {
  boardStore.set((board) => reopen(board, orderId));
}

/** Merge a full list; returns the ids to ask about (held but not listed). */
export function mergeSnapshot(orders: KitchenOrder[], answeredAt: number): string[] {
  let missing: string[] = [];
  boardStore.set((board) => {
    const result = applySnapshot(board, orders, answeredAt);
    missing = result.missing;
    return result.board;
  });
  return missing;
}

export interface FeedState {
  status: StreamStatus;
  detail?: string;
  /** Sequence of the last event applied. */
  lastSeq: number | null;
  /** Events applied since the page loaded (shown in the status tooltip, used in tests). */
  applied: number;
}

export const feedStore = createStore<FeedState>({ status: "stopped", lastSeq: null, applied: 0 });

export interface NewOrderAlert {
  orderId: string;
  number: string;
  items: string;
  at: number;
}

export interface AlertState {
  alerts: NewOrderAlert[];
  /** Tickets still highlighted as new (until someone acts on them or a minute passes). */
  fresh: Record<string, number>;
  /** Every order that has alerted once: a replayed event never alerts again. */
  seen: Record<string, true>;
}

export const alertStore = createStore<AlertState>({ alerts: [], fresh: {}, seen: {} });

export function dismissAlert(orderId: string): void {
  alertStore.set((s) => ({ ...s, alerts: s.alerts.filter((a) => a.orderId !== orderId) }));
}

export function acknowledge(orderId: string): void {
  alertStore.set((s) => {
    if (!s.fresh[orderId] && !s.alerts.some((a) => a.orderId === orderId)) return s;
    const { [orderId]: _done, ...fresh } = s.fresh;
    return { ...s, fresh, alerts: s.alerts.filter((a) => a.orderId !== orderId) };
  });
}

export function resetBoardState(): void {
  boardStore.set(emptyBoard());
  feedStore.set({ status: "stopped", lastSeq: null, applied: 0 });
  alertStore.set({ alerts: [], fresh: {}, seen: {} });
  resetRecall();
}

/** Pure functions over the board's data; the hooks and the feed only call these. */
import type { KitchenOrder, OrderLineOption } from "@/lib/api-types";
import { TERMINAL_STATUSES } from "@/lib/status";

import type { AgeLevel, AllDayLine, BoardData } from "../types";

export const WARN_AFTER_SECONDS = 5 * 60;
export const LATE_AFTER_SECONDS = 10 * 60;
/** How long a ticket the customer cancelled stays on the board, marked. */
export const CANCELLED_SHOWN_MS = 60_000;

export function emptyBoard(): BoardData {
  return { orders: {}, closed: {}, leaving: {}, clockOffsetMs: 0 };
}

/** Cancelled by the student while the kitchen had the ticket on screen. */
export function cancelledByCustomer(order: KitchenOrder): boolean {
  return order.status === "cancelled" && order.cancelled_by === "customer";
}

function newer(a: string, b: string): boolean {
  return Date.parse(a) >= Date.parse(b);
}

/** What the server's clock read when `order` was answered, minus this device's clock. */
export function clockOffset(order: KitchenOrder, answeredAt: number): number {
  return Date.parse(order.created_at) + order.age_seconds * 1000 - answeredAt;
}

/** Merge one order as the API answered it (newest `updated_at` wins; finished ones leave). */
export function applyOrder(board: BoardData, order: KitchenOrder, answeredAt?: number): BoardData {
  // Completed and cancelled are final: any copy of a closed order is an older one.
  if (board.closed[order.id]) return board;
  const existing = board.orders[order.id];
  if (existing && !newer(order.updated_at, existing.updated_at)) return board;
  const offset = answeredAt === undefined ? board.clockOffsetMs : clockOffset(order, answeredAt);
  if (TERMINAL_STATUSES.has(order.status)) {
    const closed = { ...board.closed, [order.id]: order.updated_at };
    if (existing && cancelledByCustomer(order)) {
      // Stays a minute, marked, where the kitchen last saw it (no silent disappearance).
      const leaving = { from: existing.status, until: (answeredAt ?? Date.now()) + CANCELLED_SHOWN_MS };
      return {
        orders: { ...board.orders, [order.id]: order },
        closed,
        leaving: { ...board.leaving, [order.id]: leaving },
        clockOffsetMs: offset,
      };
    }
    const { [order.id]: _gone, ...orders } = board.orders;
    const { [order.id]: _left, ...leaving } = board.leaving;
    return { orders, closed, leaving, clockOffsetMs: offset };
  }
  return {
    ...board,
    orders: { ...board.orders, [order.id]: order },
    clockOffsetMs: offset,
  };
}

/**
 * Merge a list of every active order. Returns the ids the board holds that the list did
 * not mention: they finished (or the list is older than they are); the caller asks the
 * API about each of them instead of guessing.
 */
export function applySnapshot(
  board: BoardData,
  orders: KitchenOrder[],
  answeredAt: number,
): { board: BoardData; missing: string[] } {
  let next = board;
  for (const order of orders) next = applyOrder(next, order, answeredAt);
  const listed = new Set(orders.map((o) => o.id));
  const missing = Object.keys(next.orders).filter((id) => !listed.has(id));
  return { board: next, missing };
}

export function ageSeconds(order: KitchenOrder, board: BoardData, now: number): number {
  return Math.max(0, (now + board.clockOffsetMs - Date.parse(order.created_at)) / 1000);
}

/**
 * How worried the kitchen should be about a ticket: late once it passes its promised time
 * (estimated_ready_at, before it is ready) or waits 10 minutes; a warning from 5 minutes
 * or 2 minutes before the promise.
 */
export function ageLevel(order: KitchenOrder, board: BoardData, now: number): AgeLevel {
  const age = ageSeconds(order, board, now);
  const serverNow = now + board.clockOffsetMs;
  const promise =
    order.estimated_ready_at && (order.status === "confirmed" || order.status === "preparing")
      ? Date.parse(order.estimated_ready_at)
      : null;
  if (age >= LATE_AFTER_SECONDS || (promise !== null && serverNow > promise)) return "late";
  if (age >= WARN_AFTER_SECONDS || (promise !== null && serverNow > promise - 2 * 60_000)) return "warn";
  return "ok";
}

/** A finished order was recalled: let the next copy of it back on the board. */
export function reopen(board: BoardData, orderId: string): BoardData {
  if (!board.closed[orderId] && !board.leaving[orderId]) return board;
  const { [orderId]: _closed, ...closed } = board.closed;
  const { [orderId]: _leaving, ...leaving } = board.leaving;
  const { [orderId]: _order, ...orders } = board.orders;
  return { ...board, closed, leaving, orders: board.leaving[orderId] ? orders : board.orders };
}

/** Drop the customer-cancelled tickets whose minute on the board is over. */
export function expireLeaving(board: BoardData, now: number): BoardData {
  const expired = Object.entries(board.leaving).filter(([, l]) => l.until <= now);
  if (expired.length === 0) return board;
  const orders = { ...board.orders };
  const leaving = { ...board.leaving };
  for (const [id] of expired) {
    delete orders[id];
    delete leaving[id];
  }
  return { ...board, orders, leaving };
}

/** Tickets of one status by their kitchen window (issue 16: a pre-order for 13:15 waits
 * behind the 12:30s), then oldest first (first in, first out); orders without a window
 * (placed before capacity existed) sort as their placement time. A ticket the customer
 * just cancelled stays in the column it was in. */
export function column(board: BoardData, statuses: readonly string[]): KitchenOrder[] {
  const due = (o: KitchenOrder) => Date.parse(o.pickup_window_start ?? o.created_at);
  return Object.values(board.orders)
    .filter((o) => statuses.includes(board.leaving[o.id]?.from ?? o.status))
    .sort(
      (a, b) =>
        due(a) - due(b) || Date.parse(a.created_at) - Date.parse(b.created_at) || a.number.localeCompare(b.number),
    );
}

/** The "all day" counts: portions of each item still to be made across active orders, with
 * how many of them have each option ("4 Dosa · 3 Masala · 1 Cheese"). */
export function allDay(board: BoardData): AllDayLine[] {
  const lines = new Map<string, AllDayLine>();
  for (const order of Object.values(board.orders)) {
    const toMake = order.status === "confirmed" || order.status === "preparing";
    const unpaid = order.status === "received";
    if (!toMake && !unpaid) continue;
    for (const line of order.items) {
      const entry = lines.get(line.menu_item_id) ?? {
        menuItemId: line.menu_item_id,
        name: line.name,
        toMake: 0,
        awaitingPayment: 0,
        options: [],
      };
      if (toMake) {
        entry.toMake += line.quantity;
        for (const option of line.options ?? []) {
          const counted = entry.options.find((o) => o.name === option.name);
          if (counted) counted.count += line.quantity;
          else entry.options.push({ name: option.name, count: line.quantity });
        }
      } else entry.awaitingPayment += line.quantity;
      lines.set(line.menu_item_id, entry);
    }
  }
  for (const entry of lines.values()) {
    entry.options.sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  }
  return [...lines.values()].sort(
    (a, b) => b.toMake - a.toMake || b.awaitingPayment - a.awaitingPayment || a.name.localeCompare(b.name),
  );
}

/** "Masala · Butter": a line's chosen options as the cook reads them. */
export function optionNames(options: readonly OrderLineOption[]): string {
  return options.map((o) => o.name).join(" · ");
}

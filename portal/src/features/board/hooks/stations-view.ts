/**
 * Stations on the board: which lines a station makes, the done marks everyone sees, and
 * the board as one station sees it (its lines only, its own all-day counts).
 */
import type { QueryClient } from "@tanstack/react-query";

import type { KitchenOrder } from "@/lib/api-types";
import type { KitchenEvent } from "@/lib/sse";
import { createStore } from "@/lib/store";

import type { BoardData } from "../types";

export const marksKey = ["board", "marks"] as const;
/** order id → the positions of its lines marked done. */
export type Marks = Record<string, number[]>;

const STATION_KEY = "canteen.portal.station";
export const stationStore = createStore<string>(readStation());

function readStation(): string {
  try {
    return globalThis.localStorage?.getItem(STATION_KEY) ?? "";
  } catch {
    return "";
  }
}

/**
 * The station the board is showing now ("" = all, or not on the board): the layout's
 * kitchen feed follows it, reading the stream's station filter (`?station=`) instead of
 * every order's events. Set by the board (useStationView), cleared when it closes.
 */
export const feedStationStore = createStore<string>("");

/** "" = all stations. Remembered per device (a tablet stays at its station). */
export function chooseStation(stationId: string): void {
  stationStore.set(stationId);
  try {
    localStorage.setItem(STATION_KEY, stationId);
  } catch {
    // not remembered
  }
}

export function marksFrom(list: { order_id: string; position: number }[]): Marks {
  const marks: Marks = {};
  for (const { order_id, position } of list) (marks[order_id] ??= []).push(position);
  return marks;
}

/** Apply an order.line_done event to the cached marks (the event is the whole change). */
export function applyLineEvent(queryClient: QueryClient, event: KitchenEvent): void {
  const { position, done } = event.data as { position?: number; done?: boolean };
  const orderId = event.order_id;
  if (!orderId || typeof position !== "number") return;
  queryClient.setQueryData<Marks>(marksKey, (marks = {}) => {
    const rest = (marks[orderId] ?? []).filter((p) => p !== position);
    return { ...marks, [orderId]: done ? [...rest, position].sort((a, b) => a - b) : rest };
  });
}

/** The positions of an order's lines that `stationId` makes ("" = every line). */
export function stationLines(order: KitchenOrder, itemStation: Map<string, string>, stationId: string): number[] {
  return order.items.flatMap((line, index) =>
    !stationId || itemStation.get(line.menu_item_id) === stationId ? [index] : [],
  );
}

/** The board as one station sees it: orders with a line there, holding only those lines. */
export function stationBoard(board: BoardData, itemStation: Map<string, string>, stationId: string): BoardData {
  if (!stationId) return board;
  const orders: BoardData["orders"] = {};
  for (const [id, order] of Object.entries(board.orders)) {
    const items = order.items.filter((line) => itemStation.get(line.menu_item_id) === stationId);
    if (items.length) orders[id] = { ...order, items };
  }
  return { ...board, orders };
}

export function allLinesDone(order: KitchenOrder, marks: Marks): boolean {
  return order.items.length > 0 && (marks[order.id]?.length ?? 0) >= order.items.length;
}

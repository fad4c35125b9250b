import type { KitchenOrder } from "@/lib/api-types";

/** The live board's data, kept in the query cache under `boardKey`. */
export interface BoardData {
  /** Active orders by id. An id is a key: a ticket can never be on the board twice. */
  orders: Record<string, KitchenOrder>;
  /** Orders seen to finish (completed / cancelled) → their updated_at, so a late, older
   * copy of the order (a slow response, a stale list) cannot bring the ticket back. */
  closed: Record<string, string>;
  /** Tickets a customer cancelled, kept on the board for a minute (marked, in the column
   * they were in) so nobody cooks on for a vanished order: id → where and until when. */
  leaving: Record<string, LeavingTicket>;
  /** Server clock minus this device's clock, in ms, from the last answer (ages stay right
   * on a tablet whose clock is off). */
  clockOffsetMs: number;
}

export interface LeavingTicket {
  /** The status the ticket had on the board before the cancel (its column). */
  from: string;
  /** Device time (ms) after which the ticket leaves. */
  until: number;
}

export type AgeLevel = "ok" | "warn" | "late";

export interface AllDayLine {
  menuItemId: string;
  name: string;
  /** Portions in confirmed and preparing orders. */
  toMake: number;
  /** Portions in orders still waiting for their UPI payment. */
  awaitingPayment: number;
  /** Of the portions to make, how many have each option, most first. */
  options: { name: string; count: number }[];
}

export const boardKey = ["board"] as const;

/**
 * What the order-status display shows, as a pure state: the snapshot, then each
 * `display.order` event from the stream. Confirmed and preparing orders are in the
 * Preparing column, ready ones in Ready; any other status (handed over, cancelled, not
 * collected, out for delivery) takes the number off the screen.
 */
import type { DisplayBoardSnapshot, DisplayStatus } from "../api/display";

export interface ShownOrder {
  id: string;
  number: string;
  status: DisplayStatus;
  /** Device time (ms) it turned ready, for the highlight; 0 if it was ready on load. */
  readyAt: number;
}

export type DisplayState = Record<string, ShownOrder>;

export interface DisplayEvent {
  order_id?: string;
  order_number?: string;
  status?: string;
}

const SHOWN = new Set(["confirmed", "preparing", "ready"]);

export function fromSnapshot(snapshot: DisplayBoardSnapshot): DisplayState {
  const state: DisplayState = {};
  for (const o of [...snapshot.preparing, ...snapshot.ready]) {
    state[o.order_id] = { id: o.order_id, number: o.order_number, status: o.status, readyAt: 0 };
  }
  return state;
}

/** The next state, and whether a number just turned ready (chime). */
export function applyDisplayEvent(
  state: DisplayState,
  event: DisplayEvent,
  now: number,
): { state: DisplayState; turnedReady: boolean } {
  const id = event.order_id;
  if (!id || !event.status) return { state, turnedReady: false };
  const before = state[id];
  if (!SHOWN.has(event.status)) {
    if (!before) return { state, turnedReady: false };
    const next = { ...state };
    delete next[id];
    return { state: next, turnedReady: false };
  }
  const status = event.status as DisplayStatus;
  const turnedReady = status === "ready" && before?.status !== "ready";
  const shown: ShownOrder = {
    id,
    number: event.order_number ?? before?.number ?? "",
    status,
    readyAt: turnedReady ? now : status === "ready" ? (before?.readyAt ?? 0) : 0,
  };
  return { state: { ...state, [id]: shown }, turnedReady };
}

/** "ORD-20261204-012" → "012": the part students read off their app, large. */
export function shortNumber(number: string): string {
  return number.replace(/^ORD-\d{8}-/, "");
}

/** The two columns: preparing oldest first (by number), ready newest first. */
export function columns(state: DisplayState): { preparing: ShownOrder[]; ready: ShownOrder[] } {
  const all = Object.values(state);
  return {
    preparing: all.filter((o) => o.status !== "ready").sort((a, b) => a.number.localeCompare(b.number)),
    ready: all
      .filter((o) => o.status === "ready")
      .sort((a, b) => b.readyAt - a.readyAt || a.number.localeCompare(b.number)),
  };
}

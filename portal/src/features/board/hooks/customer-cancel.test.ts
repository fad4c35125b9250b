import { QueryClient } from "@tanstack/react-query";
import { http, HttpResponse } from "msw";

import type { KitchenEvent } from "@/lib/sse";
import { detail, order, signInAs } from "@/testing/factories";
import { server } from "@/testing/server";

import { applyOrder, CANCELLED_SHOWN_MS, column, emptyBoard, expireLeaving } from "./board-state";
import { chime } from "./sound";
import { boardStore, mergeOrder } from "./stores";
import { feedHandlers } from "./use-kitchen-feed";

const later = (ms: number) => new Date(Date.now() + ms).toISOString();

describe("a ticket the customer cancels", () => {
  it("stays a minute in its column, marked, then leaves", () => {
    const placed = order({ id: "a", status: "confirmed" });
    let board = applyOrder(emptyBoard(), placed);
    const cancelled = { ...placed, status: "cancelled", cancelled_by: "customer" as const, updated_at: later(1000) };
    board = applyOrder(board, cancelled, 1_000);
    expect(board.orders.a!.status).toBe("cancelled");
    expect(board.leaving.a).toEqual({ from: "confirmed", until: 1_000 + CANCELLED_SHOWN_MS });
    expect(column(board, ["confirmed"]).map((o) => o.id)).toEqual(["a"]);
    // An older copy arriving late cannot bring it back to life.
    expect(applyOrder(board, placed)).toBe(board);
    expect(expireLeaving(board, 1_000 + CANCELLED_SHOWN_MS - 1)).toBe(board);
    const after = expireLeaving(board, 1_000 + CANCELLED_SHOWN_MS);
    expect(after.orders).toEqual({});
    expect(after.leaving).toEqual({});
    expect(after.closed.a).toBe(cancelled.updated_at);
  });

  it("is not kept when the kitchen cancelled it, or when it was never on screen", () => {
    const placed = order({ id: "a" });
    const byKitchen = { ...placed, status: "cancelled", cancelled_by: "kitchen" as const, updated_at: later(1000) };
    expect(applyOrder(applyOrder(emptyBoard(), placed), byKitchen).orders).toEqual({});
    const unseen = { ...byKitchen, cancelled_by: "customer" as const };
    const board = applyOrder(emptyBoard(), unseen);
    expect(board.orders).toEqual({});
    expect(board.leaving).toEqual({});
  });
});

describe("the feed and a customer cancel", () => {
  beforeEach(() => signInAs("kitchen"));

  it("plays the cancel sound (not the new-order chime) once and removes the ticket after a minute", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const placed = order({ id: "o1", status: "confirmed" });
      mergeOrder(placed, Date.now());
      const cancelled = {
        ...placed,
        status: "cancelled",
        cancelled_by: "customer" as const,
        cancel_reason: "cancelled by customer",
        allowed_next: [],
        updated_at: later(1000),
      };
      server.use(
        http.get("http://localhost:3000/api/v1/admin/orders/:id", () => HttpResponse.json({ data: detail(cancelled) })),
      );
      const newOrder = vi.spyOn(chime, "play").mockReturnValue(true);
      const cancelSound = vi.spyOn(chime, "cancel").mockReturnValue(true);
      const feed = feedHandlers(new QueryClient(), 1);
      const event: KitchenEvent = {
        id: "e1",
        seq: 1,
        type: "order.status_changed",
        order_id: "o1",
        order_number: placed.number,
        status: "cancelled",
        at: "",
        data: { actor: "customer" },
      };
      feed.onEvent(event);
      await vi.waitFor(() => expect(boardStore.get().orders.o1?.status).toBe("cancelled"));
      feed.onEvent({ ...event, id: "e2", seq: 2 }); // replayed: no second sound
      await feed.flush();
      expect(cancelSound).toHaveBeenCalledTimes(1);
      expect(newOrder).not.toHaveBeenCalled();
      vi.advanceTimersByTime(CANCELLED_SHOWN_MS + 100);
      expect(boardStore.get().orders.o1).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});

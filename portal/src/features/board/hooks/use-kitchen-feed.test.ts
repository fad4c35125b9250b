import { QueryClient } from "@tanstack/react-query";
import { http, HttpResponse } from "msw";

import type { EventType } from "@/lib/api-types";
import type { KitchenEvent } from "@/lib/sse";
import { detail, order, signInAs } from "@/testing/factories";
import { server } from "@/testing/server";

import { chime } from "./sound";
import { alertStore, boardStore, mergeOrder } from "./stores";
import { feedHandlers } from "./use-kitchen-feed";

const ORDER = "http://localhost:3000/api/v1/admin/orders/:id";

function event(seq: number, type: EventType, orderId: string, extra: Partial<KitchenEvent> = {}): KitchenEvent {
  return { id: `e${seq}`, seq, type, order_id: orderId, order_number: `ORD-${orderId}`, at: "", data: {}, ...extra };
}

describe("the feed's event handling", () => {
  beforeEach(() => signInAs("kitchen"));

  it("reads each changed order back once, alerts once for a new one, and removes finished ones", async () => {
    const placed = order({ id: "o1", number: "ORD-20261101-001" });
    let current = detail(placed);
    const reads: string[] = [];
    server.use(
      http.get(ORDER, ({ params }) => {
        reads.push(String(params.id));
        return HttpResponse.json({ data: current });
      }),
    );
    const play = vi.spyOn(chime, "play").mockReturnValue(true);
    const client = new QueryClient();
    const feed = feedHandlers(client, 1);

    feed.onEvent(event(1, "order.created", "o1", { data: { items: [{ name: "Masala Dosa", quantity: 2 }] } }));
    feed.onEvent(event(2, "order.payment_updated", "o1"));
    await vi.waitFor(() => expect(boardStore.get().orders.o1).toBeDefined());
    expect(reads).toEqual(["o1"]); // two events, one read (batched)
    expect(play).toHaveBeenCalledTimes(1);
    expect(alertStore.get().alerts).toMatchObject([{ orderId: "o1", items: "2× Masala Dosa" }]);
    expect(alertStore.get().fresh.o1).toBeDefined();

    // The same order announced again (a replay after a reconnect): no second alert.
    feed.onEvent(event(3, "order.created", "o1"));
    expect(play).toHaveBeenCalledTimes(1);

    current = detail({ ...placed, status: "completed", updated_at: new Date(Date.now() + 1000).toISOString() });
    feed.onEvent(event(4, "order.status_changed", "o1", { status: "completed" }));
    await vi.waitFor(() => expect(boardStore.get().orders.o1).toBeUndefined());
  });

  it("does not alert for an order already on the board (or already finished)", () => {
    const play = vi.spyOn(chime, "play").mockReturnValue(true);
    mergeOrder({ ...order({ id: "done" }), status: "cancelled" });
    server.use(http.get(ORDER, () => HttpResponse.json({ data: detail(order({ id: "done" })) })));
    const feed = feedHandlers(new QueryClient(), 1);
    feed.onEvent(event(9, "order.created", "done"));
    expect(play).not.toHaveBeenCalled();
  });

  it("refreshes the menu and the settings when they change elsewhere", () => {
    const client = new QueryClient();
    const spy = vi.spyOn(client, "invalidateQueries");
    const feed = feedHandlers(client);
    feed.onEvent({ id: "m", seq: 5, type: "menu.updated", at: "", data: {} });
    feed.onEvent({ id: "c", seq: 6, type: "config.updated", at: "", data: {} });
    const keys = spy.mock.calls.map((c) => JSON.stringify(c[0]?.queryKey));
    expect(keys).toEqual(expect.arrayContaining(['["menu"]', '["config"]', '["public-config"]', '["time-slots"]']));
  });

  it("reloads the board on a fresh stream, not on a resumed one", () => {
    const client = new QueryClient();
    const spy = vi.spyOn(client, "invalidateQueries");
    const feed = feedHandlers(client);
    feed.onHello({ replay: true });
    expect(spy).not.toHaveBeenCalled();
    feed.onHello({ replay: false });
    expect(spy).toHaveBeenCalledWith({ queryKey: ["board", "snapshot"] });
  });
});

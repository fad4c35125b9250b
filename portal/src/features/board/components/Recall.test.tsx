import { act, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient } from "@tanstack/react-query";
import { http, HttpResponse } from "msw";

import type { KitchenOrder } from "@/lib/api-types";
import type { KitchenEvent } from "@/lib/sse";
import { apiError, detail, envelope, list, order, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { applyOrder, emptyBoard, reopen } from "../hooks/board-state";
import { departed, noteMove, RECALL_WINDOW_MS, recentStore } from "../hooks/recall";
import { mergeOrder } from "../hooks/stores";
import { feedHandlers } from "../hooks/use-kitchen-feed";
import { BoardPage } from "./BoardPage";

const API = "http://localhost:3000/api/v1/admin/orders";

function moved(orderId: string, from: string, to: string, extra: Partial<KitchenEvent> = {}): KitchenEvent {
  return {
    id: `e-${orderId}-${to}`,
    seq: 10,
    type: "order.status_changed",
    order_id: orderId,
    order_number: "ORD-20261101-004",
    status: to,
    at: new Date().toISOString(),
    data: { from, to, actor: "kitchen", reason: null },
    ...extra,
  };
}

describe("recent kitchen moves", () => {
  it("remembers staff moves to ready, completed and cancelled for five minutes, not the student's", () => {
    noteMove(moved("a", "ready", "completed"), 0);
    noteMove(
      moved("b", "confirmed", "cancelled", { data: { from: "confirmed", to: "cancelled", actor: "customer" } }),
      0,
    );
    noteMove(moved("c", "confirmed", "preparing"), 0);
    const now = Date.now();
    expect(departed(recentStore.get(), now).map((m) => [m.orderId, m.from, m.to])).toEqual([
      ["a", "ready", "completed"],
    ]);
    expect(departed(recentStore.get(), now + RECALL_WINDOW_MS + 1000)).toEqual([]);
    // A later move of the same order replaces it.
    noteMove(moved("a", "completed", "preparing"), 0);
    expect(departed(recentStore.get(), now)).toEqual([]);
  });

  it("lets a recalled order back on the board", () => {
    const done = { ...order({ id: "a" }), status: "completed", updated_at: new Date(Date.now() + 1000).toISOString() };
    let board = applyOrder(applyOrder(emptyBoard(), order({ id: "a" })), done);
    expect(board.closed.a).toBeDefined();
    board = reopen(board, "a");
    const back = { ...done, status: "ready", updated_at: new Date(Date.now() + 2000).toISOString() };
    expect(applyOrder(board, back).orders.a!.status).toBe("ready");
  });
});

describe("recall on the board", () => {
  beforeEach(() => signInAs("kitchen"));

  it("recalls a handover from the 'Just moved' strip and the ticket comes back", async () => {
    let current: KitchenOrder = order({
      id: "o4",
      number: "ORD-20261101-004",
      status: "ready",
      allowed_next: ["completed"],
    });
    const recalls: unknown[] = [];
    server.use(
      http.get(API, () => HttpResponse.json(list(current.status === "ready" ? [current] : []))),
      http.get(`${API}/:id`, () => HttpResponse.json({ data: detail(current) })),
      http.post(`${API}/:id/recall`, async ({ request }) => {
        recalls.push(await request.json());
        current = { ...current, status: "ready", updated_at: new Date(Date.now() + 5000).toISOString() };
        return HttpResponse.json(
          envelope({
            id: "o4",
            number: current.number,
            status: "ready",
            payment_status: "cash_due",
            recalled_from: "completed",
          }),
        );
      }),
    );
    renderPage(<BoardPage />);
    await screen.findByRole("heading", { name: /ORD-20261101-004/ });
    // Handed over (by this tablet or another): the ticket leaves, the strip offers Recall.
    current = {
      ...current,
      status: "completed",
      allowed_next: [],
      updated_at: new Date(Date.now() + 1000).toISOString(),
    };
    const feed = feedHandlers(new QueryClient(), 1);
    act(() => feed.onEvent(moved("o4", "ready", "completed")));
    await vi.waitFor(() => expect(screen.queryByRole("heading", { name: /ORD-20261101-004/ })).toBeNull());
    const strip = screen.getByRole("region", { name: "Just moved" });
    expect(strip).toHaveTextContent("Handed over");
    await userEvent.click(within(strip).getByRole("button", { name: "Recall ORD-20261101-004" }));
    const dialog = await screen.findByRole("dialog", { name: "Recall ORD-20261101-004?" });
    expect(dialog).toHaveTextContent("goes back to Ready");
    await userEvent.click(within(dialog).getByRole("button", { name: "Recall" }));
    expect(await within(dialog).findByText("Say why it is recalled.")).toBeInTheDocument();
    expect(recalls).toEqual([]);
    await userEvent.click(within(dialog).getByRole("button", { name: "Handed to the wrong student" }));
    await userEvent.click(within(dialog).getByRole("button", { name: "Recall" }));
    const ready = await screen.findByRole("region", { name: /^Ready/ });
    expect(await within(ready).findByRole("heading", { name: /ORD-20261101-004/ })).toBeInTheDocument();
    expect(recalls).toEqual([{ reason: "Handed to the wrong student" }]);
    expect(screen.queryByRole("region", { name: "Just moved" })).toBeNull();
  });

  it("offers Recall on a ticket just marked ready and shows the API's refusal", async () => {
    const ready = order({ id: "o5", number: "ORD-20261101-005", status: "ready", allowed_next: ["completed"] });
    server.use(
      http.get(API, () => HttpResponse.json(list([ready]))),
      http.post(`${API}/:id/recall`, () =>
        HttpResponse.json(apiError("RECALL_WINDOW_PASSED", "A move can only be recalled within 5 minutes"), {
          status: 409,
        }),
      ),
    );
    renderPage(<BoardPage />);
    const heading = await screen.findByRole("heading", { name: /ORD-20261101-005/ });
    const ticket = heading.closest("li")!;
    expect(within(ticket).queryByRole("button", { name: "Recall" })).toBeNull();
    act(() => noteMove(moved("o5", "preparing", "ready", { order_number: "ORD-20261101-005" }), 0));
    act(() => mergeOrder(ready));
    await userEvent.click(await within(ticket).findByRole("button", { name: "Recall" }));
    const dialog = await screen.findByRole("dialog", { name: "Recall ORD-20261101-005?" });
    expect(dialog).toHaveTextContent("goes back to Preparing");
    await userEvent.type(within(dialog).getByLabelText("Reason"), "Pressed by mistake");
    await userEvent.click(within(dialog).getByRole("button", { name: "Recall" }));
    expect(await within(dialog).findByText("A move can only be recalled within 5 minutes")).toBeInTheDocument();
  });
});

import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import type { KitchenOrder } from "@/lib/api-types";
import { apiError, detail, list, order, signInAs, user } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { BoardPage } from "./BoardPage";

const BASE = "http://localhost:3000/api/v1/admin/orders";

function serve(orders: KitchenOrder[]) {
  const byId = new Map(orders.map((o) => [o.id, o]));
  const calls: { method: string; url: string; body: unknown }[] = [];
  server.use(
    http.get(BASE, ({ request }) => {
      const statuses = new URL(request.url).searchParams.getAll("status");
      return HttpResponse.json(list([...byId.values()].filter((o) => statuses.includes(o.status))));
    }),
    http.get(`${BASE}/:id`, ({ params }) => HttpResponse.json({ data: detail(byId.get(String(params.id))!) })),
    http.patch(`${BASE}/:id/status`, async ({ params, request }) => {
      const body = (await request.json()) as { status: string; reason?: string };
      calls.push({ method: "PATCH", url: request.url, body });
      const current = byId.get(String(params.id))!;
      const next: KitchenOrder = {
        ...current,
        status: body.status,
        allowed_next: body.status === "preparing" ? ["ready", "cancelled"] : [],
        updated_at: new Date(Date.now() + 1000).toISOString(),
      };
      byId.set(next.id, next);
      return HttpResponse.json({ data: detail(next) });
    }),
  );
  return calls;
}

const columnOf = (name: RegExp) => screen.getByRole("region", { name });

describe("the board", () => {
  beforeEach(() => signInAs("kitchen"));

  it("puts tickets in their status columns with the buttons the API allows", async () => {
    serve([
      order({ id: "a", number: "ORD-20261101-001", status: "confirmed", allowed_next: ["preparing", "cancelled"] }),
      order({
        id: "b",
        number: "ORD-20261101-002",
        status: "received",
        payment_method: "upi",
        payment_status: "pending",
        allowed_next: ["cancelled"],
      }),
      order({
        id: "c",
        number: "ORD-20261101-003",
        status: "ready",
        order_type: "delivery",
        allowed_next: ["cancelled"],
      }),
    ]);
    renderPage(<BoardPage />);
    const fresh = await screen.findByRole("heading", { name: /ORD-20261101-001/ });
    const newTicket = fresh.closest("li")!;
    expect(within(columnOf(/^New/)).getByRole("heading", { name: /ORD-20261101-001/ })).toBeInTheDocument();
    expect(
      within(newTicket.querySelector(".ticket-actions") as HTMLElement)
        .getAllByRole("button")
        .map((b) => b.textContent),
    ).toEqual(["Start preparing", "Cancel…"]);

    const unpaid = within(columnOf(/^Awaiting payment/))
      .getByRole("heading", { name: /ORD-20261101-002/ })
      .closest("li")!;
    expect(within(unpaid).getByText(/Awaiting UPI payment/)).toBeInTheDocument();
    expect(within(unpaid).queryByRole("button", { name: "Start preparing" })).toBeNull();

    const delivery = within(columnOf(/^Ready/))
      .getByRole("heading", { name: /ORD-20261101-003/ })
      .closest("li")!;
    // Not assigned: no "Send out" (the API does not allow it), but an assign button.
    expect(within(delivery).queryByRole("button", { name: "Send out" })).toBeNull();
    expect(within(delivery).getByRole("button", { name: "Assign delivery…" })).toBeInTheDocument();

    expect(screen.getByRole("region", { name: /All day/ })).toHaveTextContent("2Masala Dosa");
  });

  it("moves a ticket with one click and shows it in its new column", async () => {
    const calls = serve([order({ id: "a", number: "ORD-20261101-001" })]);
    renderPage(<BoardPage />);
    await screen.findByRole("heading", { name: /ORD-20261101-001/ });
    await userEvent.click(screen.getByRole("button", { name: "Start preparing" }));
    expect(
      await within(columnOf(/^Preparing/)).findByRole("heading", { name: /ORD-20261101-001/ }),
    ).toBeInTheDocument();
    expect(calls).toEqual([expect.objectContaining({ method: "PATCH", body: { status: "preparing" } })]);
    expect(screen.getByRole("button", { name: "Mark ready" })).toBeInTheDocument();
  });

  it("cancels only with a reason, which goes to the API", async () => {
    const calls = serve([order({ id: "a", number: "ORD-20261101-001" })]);
    renderPage(<BoardPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Cancel…" }));
    const dialog = screen.getByRole("dialog", { name: "Cancel ORD-20261101-001?" });
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel order" }));
    expect(within(dialog).getByText("Give a reason for the customer.")).toBeInTheDocument();
    expect(calls).toEqual([]);
    await userEvent.type(within(dialog).getByLabelText("Reason"), "Out of batter");
    await userEvent.click(within(dialog).getByRole("button", { name: "Cancel order" }));
    await vi.waitFor(() => expect(screen.queryByRole("heading", { name: /ORD-20261101-001/ })).toBeNull());
    expect(calls[0]!.body).toEqual({ status: "cancelled", reason: "Out of batter" });
  });

  it("hands a pickup order over against its code and explains a mismatch", async () => {
    const ready = order({
      id: "r",
      number: "ORD-20261101-009",
      status: "ready",
      allowed_next: ["completed", "cancelled"],
    });
    serve([ready]);
    const codes: string[] = [];
    server.use(
      http.post(`${BASE}/r/handover`, async ({ request }) => {
        const { pickup_code } = (await request.json()) as { pickup_code: string };
        codes.push(pickup_code);
        if (pickup_code !== "4821") {
          return HttpResponse.json(apiError("PICKUP_CODE_MISMATCH", "The pickup code does not match this order"), {
            status: 409,
          });
        }
        return HttpResponse.json({
          data: detail({ ...ready, status: "completed", updated_at: new Date(Date.now() + 5000).toISOString() }),
        });
      }),
    );
    renderPage(<BoardPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Hand over…" }));
    const dialog = screen.getByRole("dialog", { name: "Hand over ORD-20261101-009" });
    const code = within(dialog).getByLabelText("Pickup code");
    const submit = within(dialog).getByRole("button", { name: "Hand over" });
    await userEvent.type(code, "12");
    expect(submit).toBeDisabled();
    await userEvent.type(code, "34");
    await userEvent.click(submit);
    expect(await within(dialog).findByText(/does not match this order/)).toBeInTheDocument();
    await userEvent.clear(code);
    await userEvent.type(code, "4821");
    await userEvent.click(submit);
    await vi.waitFor(() => expect(screen.queryByRole("heading", { name: /ORD-20261101-009/ })).toBeNull());
    expect(codes).toEqual(["1234", "4821"]);
  });

  it("shows a refusal on the ticket and reads the order again", async () => {
    serve([order({ id: "a", number: "ORD-20261101-001" })]);
    let reads = 0;
    server.use(
      http.patch(`${BASE}/a/status`, () =>
        HttpResponse.json(apiError("INVALID_TRANSITION", "An order that is cancelled cannot become preparing"), {
          status: 409,
        }),
      ),
      http.get(`${BASE}/a`, () => {
        reads += 1;
        return HttpResponse.json({ data: detail(order({ id: "a", number: "ORD-20261101-001" })) });
      }),
    );
    renderPage(<BoardPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Start preparing" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("cannot become preparing");
    await vi.waitFor(() => expect(reads).toBe(1));
  });

  it("offers a retry when the board cannot load", async () => {
    server.use(http.get(BASE, () => HttpResponse.json(apiError("INTERNAL_ERROR", "Something broke"), { status: 500 })));
    renderPage(<BoardPage />);
    expect(await screen.findByRole("alert", {}, { timeout: 4000 })).toHaveTextContent("Something broke");
    expect(screen.getByRole("button", { name: "Try again" })).toBeInTheDocument();
  });
});

describe("assigning delivery", () => {
  it("lets an admin pick a delivery staff member", async () => {
    signInAs("admin");
    const o = order({
      id: "d",
      number: "ORD-20261101-004",
      order_type: "delivery",
      status: "preparing",
      allowed_next: ["ready", "cancelled"],
    });
    serve([o]);
    let assigned: unknown;
    server.use(
      http.get("http://localhost:3000/api/v1/admin/staff", () =>
        HttpResponse.json(
          list([
            user({ id: "rider", name: "Arjun", role: "delivery" }),
            user({ name: "Old rider", role: "delivery", is_active: false }),
          ]),
        ),
      ),
      http.post(`${BASE}/d/assign-delivery`, async ({ request }) => {
        assigned = await request.json();
        return HttpResponse.json({
          data: detail({ ...o, delivery_staff_id: "rider", updated_at: new Date(Date.now() + 1000).toISOString() }),
        });
      }),
    );
    renderPage(<BoardPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Assign delivery…" }));
    const dialog = screen.getByRole("dialog", { name: "Assign ORD-20261101-004 for delivery" });
    const select = await within(dialog).findByLabelText("Delivery staff member");
    expect(
      within(select)
        .getAllByRole("option")
        .map((opt) => opt.textContent),
    ).toEqual(["Choose…", "Arjun"]);
    await userEvent.selectOptions(select, "rider");
    await userEvent.click(within(dialog).getByRole("button", { name: "Assign" }));
    expect(await screen.findByText("Delivery staff assigned.")).toBeInTheDocument();
    expect(assigned).toEqual({ staff_id: "rider" });
  });

  it("tells the kitchen that only an admin can see the delivery staff (the API's list is admin-only)", async () => {
    signInAs("kitchen");
    serve([
      order({
        id: "d",
        number: "ORD-20261101-005",
        order_type: "delivery",
        status: "preparing",
        allowed_next: ["ready", "cancelled"],
      }),
    ]);
    renderPage(<BoardPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Assign delivery…" }));
    expect(screen.getByText(/Only an admin can see the delivery staff list/)).toBeInTheDocument();
  });
});

describe("board shortcuts", () => {
  it("a hides and shows the all-day strip; r reloads the tickets", async () => {
    signInAs("kitchen");
    let lists = 0;
    server.use(
      http.get(BASE, ({ request }) => {
        // The "Not collected" section asks for its own list (NotCollected.test.tsx).
        if (new URL(request.url).searchParams.get("status") !== "not_collected") lists += 1;
        return HttpResponse.json(list([]));
      }),
    );
    renderPage(<BoardPage />);
    expect(await screen.findByRole("region", { name: /All day/ })).toBeInTheDocument();
    await vi.waitFor(() => expect(lists).toBe(1));
    await userEvent.keyboard("a");
    expect(screen.queryByRole("region", { name: /All day/ })).toBeNull();
    await userEvent.keyboard("a");
    expect(screen.getByRole("region", { name: /All day/ })).toBeInTheDocument();
    await userEvent.keyboard("r");
    await vi.waitFor(() => expect(lists).toBe(2));
  });
});

import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { Toasts } from "@/components/Toasts";
import { apiError, detail, list, order, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { codeFromScan } from "../api/counter";
import { CounterPage } from "./CounterPage";

const API = "http://localhost:3000/api/v1";

describe("the counter", () => {
  beforeEach(() => signInAs("kitchen"));

  it("finds the ready order by its code, says the cash to collect and hands it over", async () => {
    const ready = order({ status: "ready", number: "ORD-20261101-007", total: 13500, allowed_next: ["completed"] });
    const older = order({ status: "ready", number: "ORD-20261101-003", created_at: "2026-11-01T04:00:00Z" });
    let handed: unknown;
    server.use(
      http.get(`${API}/admin/orders`, () => HttpResponse.json(list([ready, older]))),
      http.get(`${API}/admin/orders/by-pickup-code/4821`, () => HttpResponse.json({ ...list([ready]) })),
      http.post(`${API}/admin/orders/${ready.id}/handover`, async ({ request }) => {
        handed = await request.json();
        return HttpResponse.json({ data: detail({ ...ready, status: "completed", payment_status: "paid" }) });
      }),
    );
    renderPage(
      <>
        <CounterPage />
        <Toasts />
      </>,
    );
    const queue = await screen.findByRole("region", { name: /Ready for pickup \(2\)/ });
    expect(
      within(queue)
        .getAllByRole("listitem")
        .map((li) => li.textContent),
    ).toEqual([expect.stringContaining("003"), expect.stringContaining("007")]);
    await userEvent.type(screen.getByLabelText("Pickup code"), "4821");
    await userEvent.click(screen.getByRole("button", { name: "Find" }));
    const match = await screen.findByRole("region", { name: "Order ORD-20261101-007" });
    expect(within(match).getByText("Collect ₹135.00")).toBeInTheDocument();
    expect(within(match).getByText("Masala Dosa")).toBeInTheDocument();
    await userEvent.click(within(match).getByRole("button", { name: "Hand over" }));
    expect(await screen.findByText(/Handed over ORD-20261101-007 · ₹135.00 collected/)).toBeInTheDocument();
    expect(handed).toEqual({ pickup_code: "4821" });
    expect(screen.queryByRole("region", { name: "Order ORD-20261101-007" })).toBeNull();
  });

  it("says so when no ready order has the code, and offers no hand over", async () => {
    server.use(
      http.get(`${API}/admin/orders`, () => HttpResponse.json(list([]))),
      http.get(`${API}/admin/orders/by-pickup-code/1111`, () =>
        HttpResponse.json(apiError("ORDER_NOT_FOUND", "No ready order has the pickup code 1111"), { status: 404 }),
      ),
    );
    renderPage(<CounterPage />);
    await userEvent.type(screen.getByLabelText("Pickup code"), "1111");
    await userEvent.click(screen.getByRole("button", { name: "Find" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "No ready order has the pickup code 1111. Nothing was changed.",
    );
    expect(screen.queryByRole("button", { name: "Hand over" })).toBeNull();
  });

  it("says an order was not collected in time, and offers no hand over", async () => {
    const message =
      "Order ORD-20261101-009 was not collected in time (ready at 12:40); it can no longer be handed over here";
    server.use(
      http.get(`${API}/admin/orders`, () => HttpResponse.json(list([]))),
      http.get(`${API}/admin/orders/by-pickup-code/2468`, () =>
        HttpResponse.json(
          apiError("ORDER_NOT_COLLECTED", message, [
            { field: "code", issue: "not_collected", order_number: "ORD-20261101-009", status: "not_collected" },
          ]),
          { status: 409 },
        ),
      ),
    );
    renderPage(<CounterPage />);
    await userEvent.type(screen.getByLabelText("Pickup code"), "2468");
    await userEvent.click(screen.getByRole("button", { name: "Find" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(`${message}. Nothing was changed.`);
    expect(screen.queryByRole("button", { name: "Hand over" })).toBeNull();
  });

  it("asks for 4 digits before asking the server", async () => {
    server.use(http.get(`${API}/admin/orders`, () => HttpResponse.json(list([]))));
    renderPage(<CounterPage />);
    await userEvent.type(screen.getByLabelText("Pickup code"), "12a");
    await userEvent.click(screen.getByRole("button", { name: "Find" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("A pickup code is 4 digits.");
  });

  it("reads the code out of a scanned QR text", () => {
    expect(codeFromScan("4821")).toBe("4821");
    expect(codeFromScan(" 0042\n")).toBe("0042");
    expect(codeFromScan("canteen-pickup:ORD-20261101-007:4821")).toBe("4821");
    expect(codeFromScan("48210")).toBeNull();
    expect(codeFromScan("hello")).toBeNull();
  });
});

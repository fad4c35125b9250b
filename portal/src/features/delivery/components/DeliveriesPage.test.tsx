import { QueryClientProvider } from "@tanstack/react-query";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";
import { MemoryRouter, useLocation } from "react-router";

import { AppRoutes } from "@/app/App";
import { makeQueryClient } from "@/lib/query-client";
import { apiError, list, order, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { DeliveriesPage } from "./DeliveriesPage";

const API = "http://localhost:3000/api/v1";

function delivery(overrides: Parameters<typeof order>[0] = {}) {
  return order({
    order_type: "delivery",
    delivery_address: "Hostel B, room 12",
    total: 8000,
    status: "ready",
    allowed_next: ["out_for_delivery"],
    ...overrides,
  });
}

describe("the delivery screen", () => {
  beforeEach(() => signInAs("delivery"));

  it("shows the address, items, the cash to collect and a tap-to-call link", async () => {
    server.use(http.get(`${API}/delivery/orders`, () => HttpResponse.json(list([delivery()]))));
    renderPage(<DeliveriesPage />);
    const card = await screen.findByRole("listitem", { name: /Order ORD-/ });
    expect(within(card).getByText("Hostel B, room 12")).toBeInTheDocument();
    expect(within(card).getByText("2 × Masala Dosa")).toBeInTheDocument();
    expect(within(card).getByText("Collect ₹80.00")).toBeInTheDocument();
    expect(within(card).getByRole("link", { name: /Call/ })).toHaveAttribute("href", "tel:+919876543210");
    expect(within(card).getByRole("button", { name: "Picked up" })).toBeInTheDocument();
  });

  it("picks up, then refuses a wrong code and delivers with the right one", async () => {
    let current = delivery();
    const sent: unknown[] = [];
    server.use(
      http.get(`${API}/delivery/orders`, () =>
        HttpResponse.json(list(current.status === "completed" ? [] : [current])),
      ),
      http.patch(`${API}/delivery/orders/${current.id}/status`, async ({ request }) => {
        const body = (await request.json()) as { status: string; pickup_code?: string };
        sent.push(body);
        if (body.status === "completed" && body.pickup_code !== "4821") {
          return HttpResponse.json(
            apiError("PICKUP_CODE_MISMATCH", "The pickup code does not match this order", [
              { field: "pickup_code", issue: "mismatch" },
            ]),
            { status: 409 },
          );
        }
        current = { ...current, status: body.status, allowed_next: [] };
        return HttpResponse.json({ data: current });
      }),
    );
    renderPage(<DeliveriesPage />);
    await userEvent.click(await screen.findByRole("button", { name: "Picked up" }));
    const code = await screen.findByLabelText("Customer's code");
    await userEvent.type(code, "1111");
    await userEvent.click(screen.getByRole("button", { name: "Delivered" }));
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "The pickup code does not match this order. Nothing was changed.",
    );
    await userEvent.clear(code);
    await userEvent.type(code, "4821");
    await userEvent.click(screen.getByRole("button", { name: "Delivered" }));
    expect(await screen.findByText("Nothing assigned to you right now.")).toBeInTheDocument();
    expect(sent).toEqual([
      { status: "out_for_delivery" },
      { status: "completed", pickup_code: "1111" },
      { status: "completed", pickup_code: "4821" },
    ]);
  });
});

function Where() {
  return <p data-testid="where">{useLocation().pathname}</p>;
}

describe("what delivery staff may open", () => {
  function renderAt(route: string) {
    server.use(http.get(`${API}/delivery/orders`, () => HttpResponse.json(list([]))));
    return render(
      <QueryClientProvider client={makeQueryClient()}>
        <MemoryRouter initialEntries={[route]}>
          <AppRoutes />
          <Where />
        </MemoryRouter>
      </QueryClientProvider>,
    );
  }

  it.each(["/board", "/counter", "/orders", "/menu", "/settings", "/"])(
    "sends them from %s to their deliveries",
    async (route) => {
      signInAs("delivery");
      renderAt(route);
      expect(await screen.findByRole("heading", { name: "My deliveries" })).toBeInTheDocument();
      expect(screen.getByTestId("where")).toHaveTextContent("/deliveries");
      expect(screen.queryByRole("navigation", { name: "Main" })).toBeNull();
    },
  );

  it("keeps kitchen staff off the delivery screen", async () => {
    signInAs("kitchen");
    server.use(http.get(`${API}/admin/orders`, () => HttpResponse.json(list([]))));
    renderAt("/deliveries");
    expect(await screen.findByTestId("where")).toHaveTextContent("/board");
  });
});

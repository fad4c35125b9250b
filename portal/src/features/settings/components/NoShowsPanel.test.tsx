import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { NoShowsPanel } from "./NoShowsPanel";

const API = "http://localhost:3000/api/v1/admin";
const config = {
  delivery_enabled: true,
  cash_payment_enabled: true,
  upi_payment_enabled: true,
  restaurant_open: true,
  ordering_paused: false,
  delivery_fee: 2000,
  currency: "INR",
  max_items_per_order: 20,
  max_order_total: 200000,
  ready_sms_enabled: false,
  collection_window_minutes: 30,
  no_show_cash_limit: null,
  updated_at: "2026-11-01T04:00:00Z",
};

describe("the no-show settings", () => {
  it("sets the window and the cash limit, refuses nonsense before sending, and empties the limit to switch it off", async () => {
    signInAs("admin");
    const patches: unknown[] = [];
    let current: Record<string, unknown> = config;
    server.use(
      http.get(`${API}/config`, () => HttpResponse.json({ data: current })),
      http.patch(`${API}/config`, async ({ request }) => {
        const body = (await request.json()) as Record<string, unknown>;
        patches.push(body);
        current = { ...current, ...body, updated_at: new Date().toISOString() };
        return HttpResponse.json({ data: current });
      }),
    );
    renderPage(<NoShowsPanel />);
    const form = await screen.findByRole("form", { name: "Uncollected orders" });
    const window = within(form).getByLabelText("Collection window (minutes)");
    expect(window).toHaveValue("30");
    expect(within(form).getByText(/not refunded automatically/)).toBeInTheDocument();
    await userEvent.clear(window);
    await userEvent.type(window, "2");
    await userEvent.type(within(form).getByLabelText("UPI only after this many no-shows"), "0");
    await userEvent.click(within(form).getByRole("button", { name: "Save" }));
    expect(await within(form).findByText("Enter minutes from 5 to 240.")).toBeInTheDocument();
    expect(within(form).getByText(/Enter a number from 1 to 100/)).toBeInTheDocument();
    expect(patches).toEqual([]);

    await userEvent.clear(within(form).getByLabelText("Collection window (minutes)"));
    await userEvent.type(within(form).getByLabelText("Collection window (minutes)"), "20");
    await userEvent.clear(within(form).getByLabelText("UPI only after this many no-shows"));
    await userEvent.type(within(form).getByLabelText("UPI only after this many no-shows"), "3");
    await userEvent.click(within(form).getByRole("button", { name: "Save" }));
    const again = await screen.findByRole("form", { name: "Uncollected orders" });
    expect(await within(again).findByDisplayValue("3")).toBeInTheDocument();
    await userEvent.clear(within(again).getByLabelText("UPI only after this many no-shows"));
    await userEvent.click(within(again).getByRole("button", { name: "Save" }));
    await screen.findByRole("form", { name: "Uncollected orders" });
    await vi.waitFor(() =>
      expect(patches).toEqual([{ collection_window_minutes: 20, no_show_cash_limit: 3 }, { no_show_cash_limit: null }]),
    );
  });
});

import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { apiError, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { SettingsPage } from "./SettingsPage";

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
  updated_at: "2026-11-01T04:00:00Z",
};
const lunch = {
  id: "s2",
  code: "lunch",
  label: "Lunch",
  start_time: "12:00:00",
  end_time: "15:00:00",
  is_active: true,
  sort_order: 1,
};

describe("the settings page", () => {
  beforeEach(() => {
    signInAs("admin");
    server.use(
      http.get(`${API}/time-slots`, () => HttpResponse.json({ data: [lunch] })),
      // The display tokens and printer panels (their own tests: features/display, features/printing).
      http.get(`${API}/displays`, () => HttpResponse.json({ data: [] })),
      http.get(`${API}/printing`, () =>
        HttpResponse.json({
          data: { auto_print: false, auto_print_since: null, printer_host: null, printer_port: 9100 },
        }),
      ),
    );
  });

  it("saves exactly the switches and the fee that changed, in one request", async () => {
    const patches: unknown[] = [];
    server.use(
      http.get(`${API}/config`, () => HttpResponse.json({ data: config })),
      http.patch(`${API}/config`, async ({ request }) => {
        const body = (await request.json()) as Record<string, unknown>;
        patches.push(body);
        return HttpResponse.json({ data: { ...config, ...body, updated_at: "2026-11-01T05:00:00Z" } });
      }),
    );
    renderPage(<SettingsPage />);
    const pause = await screen.findByRole("switch", { name: "Pause new orders" });
    const save = screen.getByRole("button", { name: "Save settings" });
    expect(save).toBeDisabled();
    await userEvent.click(pause);
    await userEvent.click(screen.getByRole("switch", { name: "UPI payments" }));
    const fee = screen.getByLabelText("Delivery fee (₹)");
    await userEvent.clear(fee);
    await userEvent.type(fee, "15.50");
    await userEvent.click(save);
    expect(await screen.findByText("New orders are paused.")).toBeInTheDocument();
    expect(patches).toEqual([{ ordering_paused: true, upi_payment_enabled: false, delivery_fee: 1550 }]);
  });

  it("sets the order limits and the ready SMS, and refuses a limit that makes no sense", async () => {
    const patches: unknown[] = [];
    server.use(
      http.get(`${API}/config`, () => HttpResponse.json({ data: config })),
      http.patch(`${API}/config`, async ({ request }) => {
        const body = (await request.json()) as Record<string, unknown>;
        patches.push(body);
        return HttpResponse.json({ data: { ...config, ...body, updated_at: "2026-11-01T05:00:00Z" } });
      }),
    );
    renderPage(<SettingsPage />);
    const items = await screen.findByLabelText("Most items in one order");
    expect(items).toHaveValue("20");
    const total = screen.getByLabelText("Largest order total (₹)");
    expect(total).toHaveValue("2000.00");
    await userEvent.clear(items);
    await userEvent.type(items, "0");
    await userEvent.click(screen.getByRole("button", { name: "Save settings" }));
    expect(await screen.findByText("Enter a number of items from 1 to 500.")).toBeInTheDocument();
    expect(patches).toEqual([]);
    await userEvent.clear(items);
    await userEvent.type(items, "40");
    await userEvent.clear(total);
    await userEvent.type(total, "3500");
    await userEvent.click(screen.getByRole("switch", { name: "Text when ready" }));
    await userEvent.click(screen.getByRole("button", { name: "Save settings" }));
    await waitFor(() =>
      expect(patches).toEqual([{ ready_sms_enabled: true, max_items_per_order: 40, max_order_total: 350000 }]),
    );
  });

  it("keeps everything as it was when the server refuses, and shows why", async () => {
    server.use(
      http.get(`${API}/config`, () => HttpResponse.json({ data: config })),
      http.patch(`${API}/config`, () =>
        HttpResponse.json(
          apiError("VALIDATION_ERROR", "The request is not valid", [
            {
              field: "delivery_fee",
              issue: "less_than_equal",
              message: "Input should be less than or equal to 100000",
            },
          ]),
          { status: 400 },
        ),
      ),
    );
    renderPage(<SettingsPage />);
    await userEvent.click(await screen.findByRole("switch", { name: "Delivery" }));
    await userEvent.click(screen.getByRole("button", { name: "Save settings" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Not saved; the settings are as they were.");
    expect(screen.getByText("Input should be less than or equal to 100000")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: "Undo changes" }));
    expect(screen.getByRole("switch", { name: "Delivery" })).toHaveAttribute("aria-checked", "true");
  });

  it("refuses a fee that is not an amount before sending it", async () => {
    let sent = false;
    server.use(
      http.get(`${API}/config`, () => HttpResponse.json({ data: config })),
      http.patch(`${API}/config`, () => {
        sent = true;
        return HttpResponse.json({ data: config });
      }),
    );
    renderPage(<SettingsPage />);
    const fee = await screen.findByLabelText("Delivery fee (₹)");
    await userEvent.clear(fee);
    await userEvent.type(fee, "twenty");
    await userEvent.click(screen.getByRole("button", { name: "Save settings" }));
    expect(screen.getByText(/Enter a fee from ₹0 to ₹1,000/)).toBeInTheDocument();
    expect(fee).toHaveAttribute("aria-invalid", "true");
    expect(sent).toBe(false);
  });

  it("edits a time slot and shows a refusal on its row", async () => {
    const patches: unknown[] = [];
    server.use(
      http.get(`${API}/config`, () => HttpResponse.json({ data: config })),
      http.patch(`${API}/time-slots/s2`, async ({ request }) => {
        const body = await request.json();
        patches.push(body);
        return HttpResponse.json(
          apiError("VALIDATION_ERROR", "The request is not valid", [
            { field: "end_time", issue: "before_start", message: "The slot must end after it starts" },
          ]),
          { status: 400 },
        );
      }),
    );
    renderPage(<SettingsPage />);
    const row = (await screen.findByRole("rowheader", { name: "lunch" })).closest("tr")!;
    const ends = within(row).getByLabelText("lunch ends");
    await userEvent.clear(ends);
    await userEvent.type(ends, "11:00");
    await userEvent.click(within(row).getByRole("button", { name: "Save" }));
    expect(await within(row).findByText("The slot must end after it starts")).toBeInTheDocument();
    expect(patches).toEqual([{ end_time: "11:00:00" }]);
  });
});

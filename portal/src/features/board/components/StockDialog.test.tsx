import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import type { MenuItem } from "@/lib/api-types";
import { apiError, envelope, list, menuItem, order, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { BoardPage } from "./BoardPage";

const API = "http://localhost:3000/api/v1";

function serveDish(dish: MenuItem) {
  let current = dish;
  const writes: { url: string; body: unknown }[] = [];
  server.use(
    http.get(`${API}/admin/orders`, () =>
      HttpResponse.json(list([order({ id: "o1", number: "ORD-20261101-001", status: "confirmed" })])),
    ),
    http.get(`${API}/menu/items/:id`, () => HttpResponse.json(envelope(current))),
    http.patch(`${API}/admin/menu/items/:id/availability`, async ({ request }) => {
      const body = (await request.json()) as { is_available: boolean };
      writes.push({ url: request.url, body });
      current = { ...current, is_available: body.is_available, sold_out: !body.is_available };
      return HttpResponse.json(envelope(current));
    }),
    http.patch(`${API}/admin/menu/items/:id/stock`, async ({ request }) => {
      const body = (await request.json()) as { stock_remaining: number | null };
      writes.push({ url: request.url, body });
      if (body.stock_remaining !== null && body.stock_remaining > 100_000) {
        return HttpResponse.json(
          apiError("VALIDATION_ERROR", "The request is not valid", [
            { field: "stock_remaining", issue: "less_than_equal", message: "At most 100000" },
          ]),
          { status: 400 },
        );
      }
      current = { ...current, stock_remaining: body.stock_remaining, sold_out: body.stock_remaining === 0 };
      return HttpResponse.json(envelope(current));
    }),
  );
  return writes;
}

describe("86 from the board", () => {
  beforeEach(() => signInAs("kitchen"));

  it("marks a dish sold out from the all-day panel", async () => {
    const writes = serveDish(menuItem({ id: "item-dosa", name: "Masala Dosa", stock_remaining: null }));
    renderPage(<BoardPage />);
    await userEvent.click(await screen.findByRole("button", { name: "86 Masala Dosa: sold out or portions left" }));
    const dialog = await screen.findByRole("dialog", { name: "Stock of Masala Dosa" });
    expect(await within(dialog).findByRole("status")).toHaveTextContent("On the menu, no count today.");
    await userEvent.click(within(dialog).getByRole("button", { name: "Sold out (86)" }));
    await vi.waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(writes).toEqual([{ url: `${API}/admin/menu/items/item-dosa/availability`, body: { is_available: false } }]);
  });

  it("sets the portions left from a ticket, and shows a refusal next to the field", async () => {
    const writes = serveDish(menuItem({ id: "item-dosa", name: "Masala Dosa", stock_remaining: 8, daily_stock: 20 }));
    renderPage(<BoardPage />);
    const heading = await screen.findByRole("heading", { name: /ORD-20261101-001/ });
    await userEvent.click(within(heading.closest("li")!).getByRole("button", { name: "86 a dish…" }));
    const dialog = await screen.findByRole("dialog", { name: "Stock of Masala Dosa" });
    expect(await within(dialog).findByRole("status")).toHaveTextContent("8 left today");
    const field = within(dialog).getByLabelText("Portions left today");
    expect(field).toHaveValue(8);
    await userEvent.clear(field);
    await userEvent.type(field, "200000");
    await userEvent.click(within(dialog).getByRole("button", { name: "Set portions left" }));
    expect(await within(dialog).findByText("At most 100000")).toBeInTheDocument();
    await userEvent.clear(field);
    await userEvent.type(field, "3");
    await userEvent.click(within(dialog).getByRole("button", { name: "Set portions left" }));
    await vi.waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(writes.map((w) => w.body)).toEqual([{ stock_remaining: 200000 }, { stock_remaining: 3 }]);
  });
});

import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { http, HttpResponse } from "msw";

import { apiError, list, menuItem, signInAs } from "@/testing/factories";
import { renderPage } from "@/testing/render";
import { server } from "@/testing/server";

import { MenuPage } from "./MenuPage";

const API = "http://localhost:3000/api/v1";
const categories = [{ id: "cat-1", name: "South Indian", sort_order: 0, is_active: true }];

describe("the menu page", () => {
  it("lets the kitchen switch an item off in one tap (public menu, no editing)", async () => {
    signInAs("kitchen");
    const dosa = menuItem({
      id: "dosa",
      name: "Masala Dosa",
      allergens: ["dairy"],
      daily_stock: 30,
      stock_remaining: 12,
    });
    const bodies: unknown[] = [];
    server.use(
      http.get(`${API}/menu/categories`, () => HttpResponse.json(list(categories))),
      http.get(`${API}/menu/items`, () => HttpResponse.json(list([dosa]))),
      http.patch(`${API}/admin/menu/items/dosa/availability`, async ({ request }) => {
        const body = (await request.json()) as { is_available: boolean };
        bodies.push(body);
        return HttpResponse.json({ data: { ...dosa, ...body } });
      }),
    );
    renderPage(<MenuPage />);
    const row = (await screen.findByRole("rowheader", { name: /Masala Dosa/ })).closest("tr")!;
    expect(row).toHaveTextContent("₹60.00");
    expect(row).toHaveTextContent("Dairy");
    expect(row).toHaveTextContent("12 / 30 left");
    expect(screen.queryByRole("link", { name: "New item" })).toBeNull();
    const toggle = within(row).getByRole("switch", { name: "Masala Dosa available" });
    await userEvent.click(toggle);
    expect(toggle).toHaveAttribute("aria-checked", "false");
    await vi.waitFor(() => expect(bodies).toEqual([{ is_available: false }]));
  });

  it("puts the switch back and says so when the server refuses", async () => {
    signInAs("admin");
    const dosa = menuItem({ id: "dosa", name: "Masala Dosa" });
    server.use(
      http.get(`${API}/admin/menu/categories`, () => HttpResponse.json({ data: categories })),
      http.get(`${API}/admin/menu/items`, () => HttpResponse.json(list([dosa]))),
      http.patch(`${API}/admin/menu/items/dosa/availability`, () =>
        HttpResponse.json(apiError("NOT_FOUND", "No menu item with this id"), { status: 404 }),
      ),
    );
    renderPage(<MenuPage />);
    const toggle = await screen.findByRole("switch", { name: "Masala Dosa available" });
    await userEvent.click(toggle);
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not change “Masala Dosa”; it is back as it was.");
    expect(toggle).toHaveAttribute("aria-checked", "true");
    expect(screen.getByRole("link", { name: "New item" })).toBeInTheDocument();
  });
});

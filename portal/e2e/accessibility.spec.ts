import AxeBuilder from "@axe-core/playwright";

import { call, customerSession, menuItem, placeOrder, staffSession } from "./support/api";
import { expect, test, ticket } from "./support/fixtures";

/** axe-core (WCAG 2.1 A and AA rules, colour contrast included) on every page of the portal. */
const PAGES = [
  { name: "the board", path: "/portal/board", ready: /Live board/ },
  { name: "orders", path: "/portal/orders", ready: /^Orders$/ },
  { name: "the menu", path: "/portal/menu", ready: /^Menu$/ },
  { name: "the item editor", path: "/portal/menu/items/new", ready: /New menu item/ },
  { name: "settings", path: "/portal/settings", ready: /^Settings$/ },
  { name: "staff", path: "/portal/staff", ready: /^Staff$/ },
];

/** Leave the board as it was for the next tests. */
async function cancelAll(ids: string[]) {
  const { access_token } = await staffSession("kitchen");
  for (const id of ids) {
    await call("PATCH", `/admin/orders/${id}/status`, {
      token: access_token,
      body: { status: "cancelled", reason: "test over" },
    });
  }
}

async function audit(page: import("@playwright/test").Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

test.describe("accessibility", () => {
  test("the sign-in page", async ({ page }) => {
    await page.goto("/portal/login");
    await expect(page.getByRole("heading", { name: /Canteen kitchen/ })).toBeVisible();
    expect(await audit(page)).toEqual([]);
  });

  test("every page, with tickets and a dialog open", async ({ page, signIn }) => {
    await signIn("admin");
    const customer = await customerSession();
    const order = await placeOrder(customer.access_token, [{ item: await menuItem("Masala Chai"), quantity: 2 }], {
      payment_method: "upi",
    });
    const second = await placeOrder(customer.access_token, [{ item: await menuItem("Masala Dosa"), quantity: 1 }]);
    for (const { path, ready } of PAGES) {
      await page.goto(path);
      await expect(page.getByRole("heading", { level: 1, name: ready })).toBeVisible();
      await expect(page.getByText(/Loading/)).toHaveCount(0);
      expect(await audit(page), path).toEqual([]);
    }
    await page.goto("/portal/board");
    await ticket(page, order.number).getByRole("button", { name: "Cancel…" }).click();
    await expect(page.getByRole("dialog")).toBeVisible();
    expect(await audit(page), "cancel dialog").toEqual([]);
    await page.getByRole("dialog").getByRole("button", { name: "An item ran out" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Cancel order" }).click();
    await expect(ticket(page, order.number)).toHaveCount(0);
    await cancelAll([second.id]);
  });

  test("the board works from the keyboard alone", async ({ page, signIn }) => {
    await signIn("kitchen");
    const customer = await customerSession();
    const order = await placeOrder(customer.access_token, [{ item: await menuItem("Masala Chai"), quantity: 1 }]);
    await page.goto("/portal/board");
    const start = ticket(page, order.number).getByRole("button", { name: "Start preparing" });
    await expect(start).toBeVisible();
    // Tab from the top of the page until the ticket's button has focus, then press Enter.
    for (let i = 0; i < 40 && !(await start.evaluate((el) => el === document.activeElement)); i += 1) {
      await page.keyboard.press("Tab");
    }
    await expect(start).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(ticket(page, order.number).getByRole("button", { name: "Mark ready" })).toBeVisible();
    await cancelAll([order.id]);
  });
});

/**
 * The delivery staff screen (issue 17, part 8) on a phone-sized window: delivery staff sign
 * in, see their assigned order, pick it up, and prove the delivery with the customer's code
 * (a wrong one changes nothing). Nothing else of the portal opens. Takes docs/portal-delivery.png.
 */
import AxeBuilder from "@axe-core/playwright";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { call, customerSession, menuItem, placeOrder, staffSession } from "./support/api";
import { DEMO } from "./support/env";
import { expect, test } from "./support/fixtures";

const docs = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs");

/** axe-core, WCAG 2.1 A and AA (contrast included), as e2e/accessibility.spec.ts runs it. */
async function audit(page: import("@playwright/test").Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

function rupees(paise: number): string {
  return `₹${(paise / 100).toLocaleString("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

test.describe("the delivery screen", () => {
  test.use({
    viewport: { width: 390, height: 844 },
    // The wrong code is a 409, which the browser logs.
    allowedConsoleErrors: [/Failed to load resource.*409/],
  });

  test("delivery staff see their order, pick it up and deliver it with the customer's code", async ({ page }) => {
    const kitchen = await staffSession("kitchen");
    const rider = await staffSession("delivery");
    const customer = await customerSession();
    const dosa = await menuItem("Masala Dosa");
    const order = await placeOrder(customer.access_token, [{ item: dosa, quantity: 1 }], {
      order_type: "delivery",
      delivery_address: "Hostel B, room 12",
    });
    for (const status of ["preparing", "ready"]) {
      await call("PATCH", `/admin/orders/${order.id}/status`, { token: kitchen.access_token, body: { status } });
    }
    await call("POST", `/admin/orders/${order.id}/assign-delivery`, {
      token: kitchen.access_token,
      body: { staff_id: rider.user.id },
    });

    // Signing in through the page: the portal now lets delivery staff in, to their screen.
    await page.goto("/portal/login");
    await page.getByLabel("Phone number").fill(DEMO.delivery.phone);
    await page.getByLabel("Password").fill(DEMO.delivery.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/portal\/deliveries$/);
    await expect(page.getByRole("heading", { name: "My deliveries" })).toBeVisible();
    await expect(page.getByRole("navigation", { name: "Main" })).toHaveCount(0);

    const card = page.getByRole("listitem", { name: `Order ${order.number}` });
    await expect(card).toContainText("Hostel B, room 12");
    await expect(card).toContainText("1 × Masala Dosa");
    await expect(card.getByText(`Collect ${rupees(order.total)}`)).toBeVisible();
    await expect(card.getByRole("link", { name: /Call/ })).toHaveAttribute("href", `tel:${customer.phone}`);
    // Fits the phone: nothing wider than the window.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    await card.getByRole("button", { name: "Picked up" }).click();
    await expect(card).toContainText("Out for delivery");
    const code = card.getByLabel("Customer's code");
    const wrong = order.pickup_code === "0000" ? "1111" : "0000";
    await code.fill(wrong);
    await card.getByRole("button", { name: "Delivered" }).click();
    await expect(card.getByRole("alert")).toHaveText("The pickup code does not match this order. Nothing was changed.");
    const still = await call<{ status: string; payment_status: string }>("GET", `/admin/orders/${order.id}`, {
      token: kitchen.access_token,
    });
    expect([still.status, still.payment_status]).toEqual(["out_for_delivery", "cash_due"]);
    await code.fill("");
    expect(await audit(page)).toEqual([]);
    await page.screenshot({ path: join(docs, "portal-delivery.png") });

    await code.fill(order.pickup_code);
    await card.getByRole("button", { name: "Delivered" }).click();
    await expect(page.getByText(`Delivered ${order.number}`)).toBeVisible();
    await expect(card).toHaveCount(0);
    const done = await call<{ status: string; payment_status: string; events: { data: Record<string, unknown> }[] }>(
      "GET",
      `/admin/orders/${order.id}`,
      { token: kitchen.access_token },
    );
    expect([done.status, done.payment_status]).toEqual(["completed", "paid"]);
    expect(done.events.at(-1)?.data.cash_collected).toBe(order.total);
    expect(done.events.at(-1)?.data.cash_collected_by).toBe(rider.user.id);

    // Nothing else of the portal is theirs.
    for (const path of ["/portal/board", "/portal/counter", "/portal/orders", "/portal/menu"]) {
      await page.goto(path);
      await expect(page).toHaveURL(/\/portal\/deliveries$/);
      await expect(page.getByRole("heading", { name: "My deliveries" })).toBeVisible();
    }
  });
});

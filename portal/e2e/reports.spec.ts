/**
 * The manager's dashboard and reports (issue 18) against the real backend: a number on the
 * dashboard changes live when an order is placed through the API, a report shows what the
 * API says, and its CSV download has the same rows. Takes docs/portal-dashboard.png and
 * docs/portal-reports.png for docs/portal.md.
 */
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";

import { call, customerSession, menuItem, placeOrder, staffSession } from "./support/api";
import { expect, test } from "./support/fixtures";

const docs = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs");

interface Figures {
  orders: number;
  net_revenue: number;
  revenue_upi: number;
  revenue_cash: number;
}
interface SalesReport {
  totals: Figures;
  rows: { key: string; label: string; figures: Figures & Record<string, number | null> }[];
}

/** "1,234.50" from paise, as the CSV writes it (two decimals, no separators). */
const rupees = (paise: number) => (paise / 100).toFixed(2);

function parseCsv(text: string): Record<string, string>[] {
  const [head, ...lines] = text.trim().split("\r\n");
  const names = head!.split(",");
  // The sales report has no quoted cells (keys, labels and numbers only).
  return lines.map((line) => Object.fromEntries(line.split(",").map((cell, i) => [names[i]!, cell])));
}

/** axe-core, WCAG 2.1 A and AA (contrast included), as e2e/accessibility.spec.ts runs it. */
async function audit(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

test.describe("dashboard and reports", () => {
  test("the dashboard follows the kitchen live; a report's CSV matches the API", async ({ page, signIn }) => {
    await signIn("admin");
    const admin = await staffSession("admin");
    const customer = await customerSession();
    const chai = await menuItem("Masala Chai");
    const dosa = await menuItem("Masala Dosa");
    const kitchen = await staffSession("kitchen");
    // One cash order all the way through the kitchen (prep time, cash taken), one waiting.
    const done = await placeOrder(customer.access_token, [{ item: dosa, quantity: 2 }]);
    for (const status of ["preparing", "ready"]) {
      await call("PATCH", `/admin/orders/${done.id}/status`, { token: kitchen.access_token, body: { status } });
    }
    await call("POST", `/admin/orders/${done.id}/handover`, {
      token: kitchen.access_token,
      body: { pickup_code: done.pickup_code },
    });
    await placeOrder(customer.access_token, [{ item: chai, quantity: 1 }]);

    // Admins land on the dashboard.
    await page.goto("/portal/");
    await expect(page).toHaveURL(/\/portal\/dashboard$/);
    const orders = page.getByTestId("fig-orders");
    await expect(orders).toHaveText(/^\d+$/);
    const before = Number(await orders.textContent());
    await placeOrder(customer.access_token, [{ item: chai, quantity: 3 }]);
    await expect(orders).toHaveText(String(before + 1)); // from the stream, no reload
    await expect(
      page.getByRole("region", { name: "Top dishes" }).getByRole("row", { name: /Masala Chai/ }),
    ).toBeVisible();
    await expect(page.getByTestId("fig-cash")).not.toHaveText("₹0.00");
    const dismiss = page.getByRole("button", { name: "Dismiss" });
    while (await dismiss.count()) await dismiss.first().click(); // the new-order banner
    await page.screenshot({ path: join(docs, "portal-dashboard.png") });

    const dashboard = await call<{ today: string }>("GET", "/admin/reports/dashboard", { token: admin.access_token });
    const range = `from=${dashboard.today}&to=${dashboard.today}`;
    await page.goto(`/portal/reports?${range}&group=hour`);
    const table = page.getByRole("table", { name: "Sales by hour of the day" });
    const api = await call<SalesReport>("GET", `/admin/reports/sales?${range}&group=hour`, {
      token: admin.access_token,
    });
    await expect(table.getByRole("row", { name: new RegExp(`^Total ${api.totals.orders} `) })).toBeVisible();
    await page.screenshot({ path: join(docs, "portal-reports.png") });

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download CSV" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`sales-by-hour-${dashboard.today}-to-${dashboard.today}.csv`);
    const rows = parseCsv(await readFile((await download.path())!, "utf8"));
    const expected = [...api.rows, { key: "total", label: "Total", figures: api.totals }];
    expect(rows.map((r) => [r.hour, r.label, r.orders, r.net_revenue, r.revenue_upi, r.revenue_cash])).toEqual(
      expected.map((r) => [
        r.key,
        r.label,
        String(r.figures.orders),
        rupees(r.figures.net_revenue),
        rupees(r.figures.revenue_upi),
        rupees(r.figures.revenue_cash),
      ]),
    );
  });

  test("the dashboard and every report view pass axe", async ({ page, signIn }) => {
    await signIn("admin");
    await page.goto("/portal/dashboard");
    await expect(page.getByRole("heading", { level: 1, name: "Today" })).toBeVisible();
    await expect(page.getByText(/Loading/)).toHaveCount(0);
    expect(await audit(page), "dashboard").toEqual([]);
    for (const view of ["sales", "cash", "refunds", "feedback"]) {
      await page.goto(`/portal/reports?view=${view}`);
      await expect(page.getByRole("heading", { level: 1, name: "Reports" })).toBeVisible();
      await expect(page.getByText(/Loading/)).toHaveCount(0);
      expect(await audit(page), view).toEqual([]);
    }
  });

  test("kitchen staff see no reports, and the API refuses them", async ({ page, signIn }) => {
    await signIn("kitchen");
    await page.goto("/portal/reports");
    await expect(page.getByRole("heading", { name: "Admins only" })).toBeVisible();
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Reports" })).toHaveCount(0);
    const kitchen = await staffSession("kitchen");
    const refused = await fetch(`${process.env.CANTEEN_E2E_API_URL}/api/v1/admin/reports/dashboard`, {
      headers: { Authorization: `Bearer ${kitchen.access_token}` },
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("INSUFFICIENT_ROLE");
  });
});

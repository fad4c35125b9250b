/**
 * Uncollected orders (issue 16, part 4): a ready pickup order whose collection window has
 * passed is moved to not_collected by the backend's own sweep (every 30 s in-process), and
 * the board shows it apart from the live columns.
 */
import { execFileSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { call, customerSession, menuItem, placeOrder, staffSession } from "./support/api";
import { column, expect, test, ticket } from "./support/fixtures";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Put the order's ready time 31 minutes back (the window is 30), as the clock would. */
function windowPassed(orderId: string): void {
  const dataDir = process.env.CANTEEN_E2E_DATA_DIR;
  if (!dataDir) throw new Error("CANTEEN_E2E_DATA_DIR is missing (e2e/global-setup.ts sets it)");
  const script = [
    "import sqlite3, sys, uuid, datetime",
    "db = sqlite3.connect(sys.argv[1], timeout=10)",
    "key = uuid.UUID(sys.argv[2]).hex",
    "(ready,) = db.execute('SELECT ready_at FROM orders WHERE id = ?', (key,)).fetchone()",
    "earlier = datetime.datetime.fromisoformat(ready) - datetime.timedelta(minutes=31)",
    "db.execute('UPDATE orders SET ready_at = ? WHERE id = ?', (str(earlier), key))",
    "db.commit()",
  ].join("\n");
  execFileSync(join(repo, ".venv", "bin", "python"), ["-c", script, join(dataDir, "canteen.sqlite3"), orderId]);
}

test.describe("uncollected orders", () => {
  test("a ready order left past the window leaves the Ready column for 'Not collected'", async ({ page, signIn }) => {
    test.setTimeout(90_000);
    await signIn("admin");
    const kitchen = await staffSession("kitchen");
    const customer = await customerSession();
    const order = await placeOrder(customer.access_token, [{ item: await menuItem("Masala Chai"), quantity: 1 }]);
    for (const status of ["preparing", "ready"]) {
      await call("PATCH", `/admin/orders/${order.id}/status`, { token: kitchen.access_token, body: { status } });
    }
    await page.goto("/portal/board");
    await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
    const card = ticket(page, order.number);
    await expect(column(page, "Ready").locator(card)).toBeVisible();
    await expect(page.getByRole("region", { name: /^Not collected/ })).toHaveCount(0);

    windowPassed(order.id);
    const apart = page.getByRole("region", { name: /^Not collected/ });
    await expect(apart.locator(`li[data-order-number="${order.number}"]`)).toBeVisible({ timeout: 45_000 });
    await expect(card).toHaveCount(0); // no longer a live ticket
    await expect(apart).toContainText("Cash due");
    // A cash order has nothing to refund.
    await expect(apart.getByRole("button", { name: `Refund ${order.number}` })).toHaveCount(0);
    // The counter lists it apart too: a student who comes late is not "not found".
    await page.goto("/portal/counter");
    await expect(
      page.getByRole("region", { name: /^Not collected/ }).locator(`li[data-order-number="${order.number}"]`),
    ).toBeVisible();
    const seen = await call<{ status: string; actions: string[] }>("GET", `/orders/${order.id}`, {
      token: customer.access_token,
    });
    expect(seen).toMatchObject({ status: "not_collected", actions: [] });
  });
});

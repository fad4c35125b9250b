import { call, customerSession, menuItem, placeOrder, relay, staffSession } from "./support/api";
import { column, expect, test, ticket } from "./support/fixtures";

test.describe("the live feed across a network drop", () => {
  // While the connection is cut the browser reports its failed requests.
  test.use({ allowedConsoleErrors: [/Failed to load resource|net::ERR_/] });

  test("the board catches up on reconnect with nothing missed and nothing twice", async ({ page, signIn }) => {
    await signIn("kitchen");
    const streams: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/admin/orders/stream")) streams.push(request.url());
    });
    await page.goto("/portal/board");
    const feed = page.getByRole("status").filter({ hasText: /Live|Reconnecting|Connecting/ });
    await expect(feed).toHaveText(/Live/);

    const kitchen = await staffSession("kitchen");
    const customer = await customerSession();
    const vada = await menuItem("Vada Pav");
    const samosa = await menuItem("Samosa (2 pcs)");
    const before = await placeOrder(customer.access_token, [{ item: samosa, quantity: 1 }]);
    await expect(ticket(page, before.number)).toBeVisible({ timeout: 1000 });

    await relay("cut");
    try {
      await expect(feed).toHaveText(/Reconnecting/);
      // Meanwhile the kitchen keeps working on another tablet and students keep ordering.
      const missedA = await placeOrder(customer.access_token, [{ item: vada, quantity: 2 }]);
      const missedB = await placeOrder(customer.access_token, [{ item: samosa, quantity: 3 }]);
      await call("PATCH", `/admin/orders/${before.id}/status`, {
        token: kitchen.access_token,
        body: { status: "preparing" },
      });
      await call("PATCH", `/admin/orders/${missedB.id}/status`, {
        token: kitchen.access_token,
        body: { status: "cancelled", reason: "Duplicate order" },
      });
      await relay("restore");

      await expect(feed).toHaveText(/Live/, { timeout: 20_000 });
      await expect(ticket(page, missedA.number)).toHaveCount(1);
      await expect(column(page, "New").locator(ticket(page, missedA.number))).toBeVisible();
      await expect(column(page, "Preparing").locator(ticket(page, before.number))).toBeVisible();
      await expect(ticket(page, before.number)).toHaveCount(1);
      await expect(ticket(page, missedB.number)).toHaveCount(0);
      // It resumed from the last event it had (replay), not from scratch.
      expect(streams.some((url) => /last_event_id=\d+/.test(url))).toBe(true);

      // A second drop with nothing happening in between: still exactly one of each.
      await relay("cut");
      await expect(feed).toHaveText(/Reconnecting/);
      await relay("restore");
      await expect(feed).toHaveText(/Live/, { timeout: 20_000 });
      for (const number of [before.number, missedA.number]) await expect(ticket(page, number)).toHaveCount(1);

      // And the stream is live again: the next order arrives at once.
      const after = await placeOrder(customer.access_token, [{ item: vada, quantity: 1 }]);
      await expect(ticket(page, after.number)).toBeVisible({ timeout: 1000 });
      const numbers = await page
        .locator("li.ticket")
        .evaluateAll((els) => els.map((el) => el.getAttribute("data-order-number")));
      expect(new Set(numbers).size).toBe(numbers.length);
    } finally {
      await relay("restore");
    }
  });
});

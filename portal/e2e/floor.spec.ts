/**
 * The kitchen floor (issue 17): a customer cancel seen on the board, 86 from the board
 * reaching a student's menu, recall of a mistaken move, and stations with done marks.
 */
import { call, customerSession, menuItem, placeOrder } from "./support/api";
import { column, expect, test, ticket } from "./support/fixtures";

test.describe("the kitchen floor", () => {
  test("a ticket the student cancels stays a minute marked 'Cancelled by customer', then leaves", async ({
    page,
    signIn,
  }) => {
    test.setTimeout(120_000); // it waits out the minute for real
    await signIn("kitchen");
    await page.goto("/portal/board");
    await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
    // Count the cancel sounds the board plays (Web Audio square waves; the new-order chime is sine).
    await page.evaluate(() => {
      const w = window as unknown as { squareNotes: number };
      w.squareNotes = 0;
      const original = AudioContext.prototype.createOscillator;
      AudioContext.prototype.createOscillator = function (this: AudioContext) {
        const osc = original.call(this);
        queueMicrotask(() => {
          if (osc.type === "square") w.squareNotes += 1;
        });
        return osc;
      };
    });
    await page.locator("body").click(); // the browser lets a page play sound after a click

    const customer = await customerSession();
    const order = await placeOrder(customer.access_token, [{ item: await menuItem("Masala Dosa"), quantity: 1 }]);
    const card = ticket(page, order.number);
    await expect(column(page, "New").locator(card)).toBeVisible();

    await call("POST", `/orders/${order.id}/cancel`, {
      token: customer.access_token,
      body: { reason: "Ordered twice" },
    });
    await expect(card.getByRole("alert")).toContainText("Cancelled by customer");
    await expect(card).toContainText("Ordered twice");
    await expect(column(page, "New").locator(card)).toBeVisible();
    await expect(card.getByRole("button")).toHaveCount(0);
    await expect.poll(() => page.evaluate(() => (window as unknown as { squareNotes: number }).squareNotes)).toBe(3);
    // Still there 50 s later, gone after the minute.
    await page.waitForTimeout(50_000);
    await expect(card).toBeVisible();
    await expect(card).toHaveCount(0, { timeout: 15_000 });
  });
});

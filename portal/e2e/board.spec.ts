import { customerSession, menuItem, placeOrder } from "./support/api";
import { column, expect, test, ticket } from "./support/fixtures";
import { openCustomerSocket } from "./support/socket";

test.describe("the live board", () => {
  // The wrong pickup code is refused with a 409, which the browser logs.
  test.use({ allowedConsoleErrors: [/Failed to load resource.*409/] });

  test("a pickup order appears within a second and moves through every status to handover", async ({
    page,
    browser,
    signIn,
  }) => {
    await signIn("kitchen");
    await page.goto("/portal/board");
    await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();

    const customer = await customerSession();
    const dosa = await menuItem("Masala Dosa");
    const chai = await menuItem("Masala Chai");
    const order = await placeOrder(customer.access_token, [
      { item: dosa, quantity: 2, notes: "less spicy" },
      { item: chai, quantity: 1 },
    ]);
    const placedAt = Date.now();
    const card = ticket(page, order.number);
    await expect(card).toBeVisible({ timeout: 1000 });
    expect(Date.now() - placedAt).toBeLessThan(1000);
    await expect(column(page, "New").locator(card)).toBeVisible();
    // The visual alert (the sound plays with it) and the "all day" counts.
    await expect(page.locator(".new-order-banner")).toContainText(order.number);
    await expect(card).toContainText("New");
    await expect(page.getByRole("region", { name: /All day/ })).toContainText("Masala Dosa");
    await expect(card).toContainText("2×");
    await expect(card).toContainText("less spicy");
    await expect(card).toContainText("Cash due");

    const socket = await openCustomerSocket(browser, order.id, customer.access_token);
    try {
      // Exactly the transitions the API allows: a confirmed pickup order can start or be cancelled.
      await expect(card.locator(".ticket-actions").getByRole("button")).toHaveText(["Start preparing", "Cancel…"]);
      await card.getByRole("button", { name: "Start preparing" }).click();
      await expect(column(page, "Preparing").locator(ticket(page, order.number))).toBeVisible();
      await expect.poll(() => socket.statuses()).toContain("preparing");

      await ticket(page, order.number).getByRole("button", { name: "Mark ready" }).click();
      await expect(column(page, "Ready").locator(ticket(page, order.number))).toBeVisible();
      await expect.poll(() => socket.statuses()).toContain("ready");

      // Handover: the kitchen asks for the code; a wrong one is refused and nothing changes.
      await ticket(page, order.number).getByRole("button", { name: "Hand over…" }).click();
      const dialog = page.getByRole("dialog", { name: `Hand over ${order.number}` });
      const wrong = order.pickup_code === "0000" ? "1111" : "0000";
      await dialog.getByLabel("Pickup code").fill(wrong);
      await dialog.getByRole("button", { name: "Hand over" }).click();
      await expect(dialog.getByText("That code does not match this order")).toBeVisible();
      await expect(column(page, "Ready").locator(ticket(page, order.number))).toBeVisible();
      await dialog.getByLabel("Pickup code").fill(order.pickup_code);
      await dialog.getByRole("button", { name: "Hand over" }).click();
      await expect(ticket(page, order.number)).toHaveCount(0);
      await expect.poll(() => socket.statuses()).toEqual(["confirmed", "preparing", "ready", "completed"]);
    } finally {
      await socket.close();
    }

    // The order's history lists every step.
    await page.getByRole("link", { name: "Orders" }).click();
    await page.getByLabel("Order number or phone").fill(order.number);
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name: order.number }).click();
    await expect(page.getByRole("heading", { name: order.number })).toBeVisible();
    const history = page.getByRole("region", { name: "History" });
    await expect(history.getByRole("listitem")).toHaveText([
      /Order placed/,
      /New → Preparing/,
      /Preparing → Ready/,
      /Ready → Completed/,
    ]);
  });

  test("a delivery order is assigned, sent out and delivered", async ({ page, browser, signIn }) => {
    await signIn("admin");
    await page.goto("/portal/board");
    await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
    const customer = await customerSession();
    const order = await placeOrder(
      customer.access_token,
      [{ item: await menuItem("Veg Hakka Noodles"), quantity: 1 }],
      {
        order_type: "delivery",
        delivery_address: "Hostel 4, room 212",
      },
    );
    const socket = await openCustomerSocket(browser, order.id, customer.access_token);
    try {
      const card = ticket(page, order.number);
      await expect(card).toBeVisible({ timeout: 1000 });
      await expect(card).toContainText("Hostel 4, room 212");
      await card.getByRole("button", { name: "Start preparing" }).click();
      await ticket(page, order.number).getByRole("button", { name: "Mark ready" }).click();
      await expect(column(page, "Ready").locator(ticket(page, order.number))).toBeVisible();
      // Not assigned yet: the API does not offer "out for delivery", so neither does the board.
      await expect(ticket(page, order.number).getByRole("button", { name: "Send out" })).toHaveCount(0);
      await ticket(page, order.number).getByRole("button", { name: "Assign delivery…" }).click();
      const dialog = page.getByRole("dialog", { name: `Assign ${order.number} for delivery` });
      await dialog.getByLabel("Delivery staff member").selectOption({ label: "Arjun (delivery)" });
      await dialog.getByRole("button", { name: "Assign" }).click();
      await expect(dialog).toBeHidden();
      await expect(ticket(page, order.number)).toContainText("Delivery staff assigned");
      await ticket(page, order.number).getByRole("button", { name: "Send out" }).click();
      await expect(column(page, "Out for delivery").locator(ticket(page, order.number))).toBeVisible();
      await ticket(page, order.number).getByRole("button", { name: "Delivered" }).click();
      await expect(ticket(page, order.number)).toHaveCount(0);
      await expect
        .poll(() => socket.statuses())
        .toEqual(["confirmed", "preparing", "ready", "ready", "out_for_delivery", "completed"]);
    } finally {
      await socket.close();
    }
  });

  test("an unpaid UPI order is flagged, cannot start, and is cancelled with a reason", async ({
    page,
    browser,
    signIn,
  }) => {
    await signIn("kitchen");
    await page.goto("/portal/board");
    await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
    const customer = await customerSession();
    const order = await placeOrder(customer.access_token, [{ item: await menuItem("Egg Puff"), quantity: 3 }], {
      payment_method: "upi",
    });
    const card = ticket(page, order.number);
    await expect(column(page, "Awaiting payment").locator(card)).toBeVisible({ timeout: 1000 });
    await expect(card).toContainText("Awaiting UPI payment");
    await expect(card.getByRole("button", { name: "Start preparing" })).toHaveCount(0);
    await expect(
      page
        .getByRole("region", { name: /All day/ })
        .getByRole("listitem")
        .filter({ hasText: "Egg Puff" }),
    ).toContainText("+3 unpaid");

    const socket = await openCustomerSocket(browser, order.id, customer.access_token);
    try {
      await card.getByRole("button", { name: "Cancel…" }).click();
      const dialog = page.getByRole("dialog", { name: `Cancel ${order.number}?` });
      await dialog.getByRole("button", { name: "Cancel order" }).click();
      await expect(dialog.getByText("Give a reason for the customer.")).toBeVisible();
      await dialog.getByRole("button", { name: "An item ran out" }).click();
      await dialog.getByRole("button", { name: "Cancel order" }).click();
      await expect(ticket(page, order.number)).toHaveCount(0);
      await expect.poll(() => socket.statuses()).toEqual(["received", "cancelled"]);
    } finally {
      await socket.close();
    }
  });
});

/**
 * The kitchen floor (issue 17): a customer cancel seen on the board, 86 from the board
 * reaching a student's menu, recall of a mistaken move, and stations with done marks.
 */
import { call, customerSession, menuItem, placeOrder, staffSession } from "./support/api";
import { e2eEnv } from "./support/env";
import { column, expect, test, ticket } from "./support/fixtures";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import type { Browser, Page } from "@playwright/test";

const docs = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs");

/** A second tablet: its own browser context, signed in as the kitchen. */
async function secondTablet(browser: Browser): Promise<Page> {
  const session = await staffSession("kitchen");
  const context = await browser.newContext({ baseURL: e2eEnv().baseURL, viewport: { width: 1280, height: 800 } });
  await context.addInitScript(
    (stored) => window.localStorage.setItem("canteen.portal.session", stored),
    JSON.stringify({
      accessToken: session.access_token,
      refreshToken: session.refresh_token,
      accessExpiresAt: Date.now() + session.expires_in * 1000,
      user: session.user,
    }),
  );
  return context.newPage();
}

/** A student's open menu: the public menu stream, read as it arrives. */
function openMenuStream(token: string) {
  const controller = new AbortController();
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const done = (async () => {
    const response = await fetch(`${e2eEnv().apiURL}/api/v1/menu/stream?token=${token}`, {
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) return;
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const type = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (type && data) events.push({ type, data: JSON.parse(data) as Record<string, unknown> });
      }
    }
  })().catch(() => undefined);
  return {
    /** The menu changes heard for one dish: [action, sold_out or stock] pairs. */
    heard: (itemId: string) =>
      events
        .map((e) => e.data.data as Record<string, unknown> | undefined)
        .filter((d) => d?.id === itemId)
        .map((d) => d!.action),
    close: async () => {
      controller.abort();
      await done;
    },
  };
}

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

  test("86 from the board reaches a student's open menu", async ({ page, signIn }) => {
    const customer = await customerSession();
    const dish = await menuItem("Uttapam");
    const admin = await staffSession("admin");
    const menu = openMenuStream(customer.access_token);
    try {
      await signIn("kitchen");
      await page.goto("/portal/board");
      await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
      const order = await placeOrder(customer.access_token, [{ item: dish, quantity: 2 }]);
      const card = ticket(page, order.number);
      await expect(card).toBeVisible();

      // From the ticket: sold out.
      await card.getByRole("button", { name: "86 a dish…" }).click();
      let dialog = page.getByRole("dialog", { name: "Stock of Uttapam" });
      await expect(dialog.getByRole("status")).toHaveText("On the menu, no count today.");
      await dialog.getByRole("button", { name: "Sold out (86)" }).click();
      await expect(dialog).toBeHidden();
      await expect.poll(() => menu.heard(dish.id)).toEqual(["availability_changed"]);
      expect((await menuItem("Uttapam")).sold_out).toBe(true);

      // From the all-day panel: back on, with 5 portions left.
      const allDay = page.getByRole("region", { name: /All day/ });
      await allDay.getByRole("button", { name: "86 Uttapam: sold out or portions left" }).click();
      dialog = page.getByRole("dialog", { name: "Stock of Uttapam" });
      await expect(dialog.getByRole("status")).toContainText("Sold out (86'd)");
      await dialog.getByRole("button", { name: "Back on the menu" }).click();
      await expect(dialog).toBeHidden();
      await allDay.getByRole("button", { name: "86 Uttapam: sold out or portions left" }).click();
      await dialog.getByLabel("Portions left today").fill("5");
      await dialog.getByRole("button", { name: "Set portions left" }).click();
      await expect(dialog).toBeHidden();
      await expect
        .poll(() => menu.heard(dish.id))
        .toEqual(["availability_changed", "availability_changed", "stock_set"]);
      const after = await call<{ sold_out: boolean; stock_remaining: number | null }>("GET", `/menu/items/${dish.id}`);
      expect(after).toMatchObject({ sold_out: false, stock_remaining: 5 });
    } finally {
      await menu.close();
      await call("PATCH", `/admin/menu/items/${dish.id}/stock`, {
        token: admin.access_token,
        body: { stock_remaining: null },
      });
      await call("PATCH", `/admin/menu/items/${dish.id}/availability`, {
        token: admin.access_token,
        body: { is_available: true },
      });
    }
  });

  test("a mistaken handover is recalled from the board within 5 minutes and the student sees it", async ({
    page,
    signIn,
  }) => {
    await signIn("kitchen");
    await page.goto("/portal/board");
    await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
    const customer = await customerSession();
    const order = await placeOrder(customer.access_token, [{ item: await menuItem("Masala Chai"), quantity: 1 }]);
    const card = ticket(page, order.number);
    await card.getByRole("button", { name: "Start preparing" }).click();
    await ticket(page, order.number).getByRole("button", { name: "Mark ready" }).click();
    await expect(column(page, "Ready").locator(ticket(page, order.number))).toBeVisible();
    await ticket(page, order.number).getByRole("button", { name: "Hand over…" }).click();
    const handover = page.getByRole("dialog", { name: `Hand over ${order.number}` });
    await handover.getByLabel("Pickup code").fill(order.pickup_code);
    await handover.getByRole("button", { name: "Hand over" }).click();
    await expect(ticket(page, order.number)).toHaveCount(0);

    const strip = page.getByRole("region", { name: "Just moved" });
    await expect(strip).toContainText("Handed over");
    await strip.getByRole("button", { name: `Recall ${order.number}` }).click();
    const dialog = page.getByRole("dialog", { name: `Recall ${order.number}?` });
    await expect(dialog).toContainText("goes back to Ready");
    await dialog.getByRole("button", { name: "Handed to the wrong student" }).click();
    await dialog.getByRole("button", { name: "Recall" }).click();
    await expect(column(page, "Ready").locator(ticket(page, order.number))).toBeVisible();
    await expect(strip).toHaveCount(0);
    const mine = await call<{ status: string; payment_status: string }>("GET", `/orders/${order.id}`, {
      token: customer.access_token,
    });
    expect(mine).toMatchObject({ status: "ready", payment_status: "cash_due" });
    // The order's history says who recalled it and why.
    await page.goto(`/portal/orders/${order.id}`);
    await expect(page.getByRole("region", { name: "History" })).toContainText("Handed to the wrong student");
  });

  test("a station view with done marks that a second tablet sees live", async ({ page, browser, signIn }) => {
    const admin = await staffSession("admin");
    const token = { token: admin.access_token };
    const dosa = await menuItem("Masala Dosa");
    const chai = await menuItem("Masala Chai");
    const tawa = await call<{ id: string }>("POST", "/admin/stations", { ...token, body: { name: "Dosa tawa" } });
    const drinks = await call<{ id: string }>("POST", "/admin/stations", { ...token, body: { name: "Beverages" } });
    await call("PUT", `/admin/menu/items/${dosa.id}/station`, { ...token, body: { station_id: tawa.id } });
    await call("PUT", `/admin/menu/items/${chai.id}/station`, { ...token, body: { station_id: drinks.id } });
    const other = await secondTablet(browser);
    try {
      const customer = await customerSession();
      const order = await placeOrder(customer.access_token, [
        { item: dosa, quantity: 2 },
        { item: chai, quantity: 1 },
      ]);
      const chaiOnly = await placeOrder(customer.access_token, [{ item: chai, quantity: 2 }]);
      await signIn("kitchen");
      await page.goto("/portal/board");
      await page.getByLabel("Station").selectOption({ label: "Dosa tawa" });
      const card = ticket(page, order.number);
      await expect(card).toBeVisible();
      await expect(ticket(page, chaiOnly.number)).toHaveCount(0);
      await expect(card.getByRole("list", { name: "Items" })).not.toContainText("Masala Chai");
      const allDay = page.getByRole("region", { name: /All day/ });
      await expect(allDay).toContainText("Masala Dosa");
      await expect(allDay).not.toContainText("Masala Chai");

      // The expediter's tablet shows every station.
      await other.goto("/portal/board");
      const seen = other.locator(`li.ticket[data-order-number="${order.number}"]`);
      await expect(seen).toBeVisible();
      await card.getByRole("button", { name: "Masala Dosa done" }).click();
      await expect(seen.getByRole("button", { name: "Masala Dosa done" })).toHaveAttribute("aria-pressed", "true");
      await expect(seen.getByRole("status")).toHaveCount(0);
      await other.getByLabel("Station").selectOption({ label: "Beverages" });
      await seen.getByRole("button", { name: "Masala Chai done" }).click();
      await other.getByLabel("Station").selectOption({ label: "All stations" });
      await expect(seen.getByRole("status")).toHaveText("All stations done");
      await expect(card.getByRole("status")).toHaveText("All stations done");
      await page.mouse.move(0, 799);
      await page.screenshot({ path: join(docs, "portal-stations.png") });
      // The expediter marks it ready.
      await seen.getByRole("button", { name: "Start preparing" }).click();
      await other
        .locator(`li.ticket[data-order-number="${order.number}"]`)
        .getByRole("button", { name: "Mark ready" })
        .click();
      await expect(column(page, "Ready").locator(ticket(page, order.number))).toBeVisible();
    } finally {
      await other.context().close();
      await call("DELETE", `/admin/stations/${tawa.id}`, token);
      await call("DELETE", `/admin/stations/${drinks.id}`, token);
    }
  });
});

/**
 * The order-status display (issue 17, part 2): a counter TV signed in with a display token
 * follows orders as the kitchen moves them (through the API), chimes and lights up a
 * number that turns ready, drops numbers on handover and cancel, keeps up through a
 * network drop, shows nothing personal, and stops when its token is revoked.
 * Takes docs/portal-display.png.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { call, customerSession, menuItem, placeOrder, relay, staffSession } from "./support/api";
import { expect, test } from "./support/fixtures";

const docs = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs");
const short = (number: string) => number.split("-").pop() ?? number;

interface CreatedDisplay {
  id: string;
  token: string;
}

test.describe("the order-status display", () => {
  // The revoked token's last requests are refused with 401, and the cut network ends the
  // stream mid-way: the browser logs both.
  test.use({ allowedConsoleErrors: [/Failed to load resource.*401|net::ERR_/] });

  test("follows the kitchen live, with no personal data, through a network drop, until revoked", async ({ page }) => {
    const admin = await staffSession("admin");
    const kitchen = await staffSession("kitchen");
    const customer = await customerSession();
    const display = await call<CreatedDisplay>("POST", "/admin/displays", {
      token: admin.access_token,
      body: { name: "Counter TV" },
    });
    const [dosa, chai] = [await menuItem("Masala Dosa"), await menuItem("Masala Chai")];
    const move = (id: string, status: string, extra: Record<string, unknown> = {}) =>
      call("PATCH", `/admin/orders/${id}/status`, { token: kitchen.access_token, body: { status, ...extra } });
    const first = await placeOrder(customer.access_token, [{ item: dosa, quantity: 2, notes: "no onion" }], {
      instructions: "call me at the gate",
    });
    await move(first.id, "preparing");

    // Count the chime's notes: the display plays them through Web Audio.
    await page.addInitScript(() => {
      const w = window as unknown as { __notes: number };
      w.__notes = 0;
      const create = AudioContext.prototype.createOscillator;
      AudioContext.prototype.createOscillator = function (this: AudioContext) {
        w.__notes += 1;
        return create.call(this);
      };
    });
    await page.goto(`/portal/display#token=${display.token}`);
    const preparing = page.getByRole("region", { name: "Preparing" });
    const ready = page.getByRole("region", { name: "Ready" });
    await expect(preparing.getByText(short(first.number), { exact: true })).toBeVisible();
    await expect(page).toHaveURL(/\/portal\/display$/); // the token left the address bar
    await page.getByRole("button", { name: "Turn the chime on" }).click();

    // A new order appears; one turning ready moves over, lit up, with a chime.
    const second = await placeOrder(customer.access_token, [{ item: chai, quantity: 1 }]);
    await expect(preparing.getByText(short(second.number), { exact: true })).toBeVisible();
    await move(first.id, "ready");
    const lit = ready.getByText(short(first.number), { exact: true });
    await expect(lit).toBeVisible();
    await expect(lit).toHaveClass(/display-number-fresh/);
    await expect(preparing.getByText(short(first.number), { exact: true })).toHaveCount(0);
    await expect.poll(() => page.evaluate(() => (window as unknown as { __notes: number }).__notes)).toBeGreaterThan(0);
    await page.screenshot({ path: join(docs, "portal-display.png") });

    // Nothing personal anywhere on the page.
    const html = await page.content();
    for (const secret of [
      customer.phone,
      customer.phone.slice(3),
      customer.user.name ?? "Student",
      "Masala Dosa",
      "Masala Chai",
      "no onion",
      "call me at the gate",
      first.pickup_code,
      second.pickup_code,
    ]) {
      expect(html, secret).not.toContain(secret);
    }

    // The TV's network drops; the kitchen works on; it comes back and catches up.
    await relay("cut");
    try {
      await expect(page.getByRole("status")).toHaveText("Reconnecting…", { timeout: 20_000 });
      await move(first.id, "completed", { pickup_code: first.pickup_code });
      await move(second.id, "cancelled", { reason: "Out of milk" });
      const third = await placeOrder(customer.access_token, [{ item: chai, quantity: 2 }]);
      await relay("restore");
      await expect(preparing.getByText(short(third.number), { exact: true })).toBeVisible({ timeout: 20_000 });
      await expect(page.getByRole("status")).toHaveCount(0);
      // Handed over and cancelled: gone from both columns, and nothing shown twice.
      for (const gone of [first, second]) {
        await expect(page.getByText(short(gone.number), { exact: true })).toHaveCount(0);
      }
      await expect(page.getByText(short(third.number), { exact: true })).toHaveCount(1);
    } finally {
      await relay("restore");
    }

    // Revoked: the screen stops and asks for a token.
    await call("POST", `/admin/displays/${display.id}/revoke`, { token: admin.access_token });
    await expect(page.getByRole("alert")).toContainText("revoked", { timeout: 15_000 });
    await expect(page.getByLabel("Display token")).toBeVisible();
    expect(await page.evaluate(() => localStorage.getItem("canteen.display.token"))).toBeNull();
  });

  test("an admin creates and revokes a display token in Settings", async ({ page, signIn }) => {
    await signIn("admin");
    await page.goto("/portal/settings");
    const panel = page.getByRole("region", { name: "Order-status displays" });
    await panel.getByLabel("Display name").fill("Queue TV");
    await panel.getByRole("button", { name: "Create display token" }).click();
    const token = (await panel.getByTestId("display-token").textContent()) ?? "";
    expect(token).toMatch(/^disp_/);
    await panel.getByRole("button", { name: "Revoke Queue TV" }).click();
    await expect(panel.getByRole("button", { name: "Revoke Queue TV" })).toHaveCount(0);
    const refused = await fetch(`${new URL(page.url()).origin}/api/v1/display/orders`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(refused.status).toBe(401);
  });
});

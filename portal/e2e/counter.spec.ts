/**
 * Counter mode (issue 17, part 1): the pickup code finds the ready order, a wrong one
 * changes nothing, a cash order says how much to collect, and Hand over completes it and
 * records the cash; the camera reads the app's QR code (Chromium's fake camera playing it).
 * Takes docs/portal-counter.png.
 */
import AxeBuilder from "@axe-core/playwright";
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "@playwright/test";

import { CHROMIUM_ARGS } from "../playwright.config";
import { call, customerSession, menuItem, placeOrder, staffSession } from "./support/api";
import { e2eEnv } from "./support/env";
import { expect, test } from "./support/fixtures";

const docs = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs");

/** axe-core, WCAG 2.1 A and AA (contrast included), as e2e/accessibility.spec.ts runs it. */
async function audit(page: import("@playwright/test").Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
}

interface OrderView {
  status: string;
  payment_status: string;
  events: { data: Record<string, unknown>; actor_id: string | null }[];
}

function rupees(paise: number): string {
  return `₹${(paise / 100).toLocaleString("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

test.describe("the counter", () => {
  // The unknown code is a 404, which the browser logs.
  test.use({ allowedConsoleErrors: [/Failed to load resource.*404/] });

  test("a wrong code changes nothing; the right one opens the order, says the cash and hands it over", async ({
    page,
    signIn,
  }) => {
    const kitchen = await staffSession("kitchen");
    const customer = await customerSession();
    const [dosa, chai] = [await menuItem("Masala Dosa"), await menuItem("Masala Chai")];
    const older = await placeOrder(customer.access_token, [{ item: chai, quantity: 1 }]);
    const order = await placeOrder(customer.access_token, [
      { item: dosa, quantity: 2 },
      { item: chai, quantity: 1 },
    ]);
    for (const o of [older, order]) {
      for (const status of ["preparing", "ready"]) {
        await call("PATCH", `/admin/orders/${o.id}/status`, { token: kitchen.access_token, body: { status } });
      }
    }

    const me = await signIn("kitchen");
    await page.goto("/portal/counter");
    const queue = page.getByRole("region", { name: /Ready for pickup/ });
    const short = (number: string) => number.split("-").pop() ?? number;
    const rows = queue.getByRole("listitem");
    await expect(rows.filter({ hasText: short(order.number) })).toHaveCount(1);
    // Oldest first: the order placed earlier is listed above.
    const texts = await rows.allTextContents();
    expect(texts.findIndex((t) => t.includes(short(older.number)))).toBeLessThan(
      texts.findIndex((t) => t.includes(short(order.number))),
    );

    const input = page.getByLabel("Pickup code");
    await expect(input).toBeFocused();
    const used = new Set([order.pickup_code, older.pickup_code]);
    const wrong = ["0000", "1111", "2222"].find((c) => !used.has(c)) ?? "3333";
    await input.fill(wrong);
    await page.getByRole("button", { name: "Find" }).click();
    await expect(page.getByRole("alert")).toHaveText(
      `No ready order has the pickup code ${wrong}. Nothing was changed.`,
    );
    await expect(page.getByRole("button", { name: "Hand over" })).toHaveCount(0);
    const untouched = await call<OrderView>("GET", `/admin/orders/${order.id}`, { token: kitchen.access_token });
    expect([untouched.status, untouched.payment_status]).toEqual(["ready", "cash_due"]);

    await input.fill(order.pickup_code);
    await input.press("Enter");
    const match = page.getByRole("region", { name: `Order ${order.number}` });
    await expect(match).toBeVisible();
    await expect(match).toContainText("2 × Masala Dosa");
    await expect(match).toContainText("1 × Masala Chai");
    await expect(match.getByText(`Collect ${rupees(order.total)}`)).toBeVisible();
    await expect(page.getByRole("alert")).toHaveCount(0);
    expect(await audit(page)).toEqual([]);
    await page.screenshot({ path: join(docs, "portal-counter.png") });

    await match.getByRole("button", { name: "Hand over" }).click();
    await expect(page.getByText(`Handed over ${order.number} · ${rupees(order.total)} collected`)).toBeVisible();
    await expect(match).toHaveCount(0);
    await expect(rows.filter({ hasText: short(order.number) })).toHaveCount(0);
    await expect(input).toHaveValue("");
    const done = await call<OrderView>("GET", `/admin/orders/${order.id}`, { token: kitchen.access_token });
    expect([done.status, done.payment_status]).toEqual(["completed", "paid"]);
    const last = done.events.at(-1);
    expect(last?.data.cash_collected).toBe(order.total);
    expect(last?.data.cash_collected_by).toBe(me.user.id);
  });

  test("the ready list follows the kitchen live: an order marked ready elsewhere appears, one handed over leaves", async ({
    page,
    signIn,
  }) => {
    const kitchen = await staffSession("kitchen");
    const customer = await customerSession();
    const order = await placeOrder(customer.access_token, [{ item: await menuItem("Masala Chai"), quantity: 1 }]);
    await call("PATCH", `/admin/orders/${order.id}/status`, {
      token: kitchen.access_token,
      body: { status: "preparing" },
    });

    await signIn("kitchen");
    await page.goto("/portal/counter");
    const rows = page.getByRole("region", { name: /Ready for pickup/ }).getByRole("listitem");
    const short = order.number.split("-").pop() ?? order.number;
    await expect(page.getByRole("heading", { name: /Ready for pickup/ })).toBeVisible();
    await expect(rows.filter({ hasText: short })).toHaveCount(0);
    // Another screen (the board) marks it ready: the list shows it from the kitchen stream,
    // well before the 30-second fallback poll could.
    await call("PATCH", `/admin/orders/${order.id}/status`, { token: kitchen.access_token, body: { status: "ready" } });
    await expect(rows.filter({ hasText: short })).toHaveCount(1, { timeout: 10_000 });
    await call("POST", `/admin/orders/${order.id}/handover`, {
      token: kitchen.access_token,
      body: { pickup_code: order.pickup_code },
    });
    await expect(rows.filter({ hasText: short })).toHaveCount(0, { timeout: 10_000 });
  });
});

/** A short video of the app's QR code for `code` (segno, as the app draws it), for Chromium's fake camera. */
function qrVideo(code: string, path: string): void {
  const python = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", ".venv", "bin", "python");
  const script = [
    "import sys, segno",
    "code, path = sys.argv[1], sys.argv[2]",
    "matrix = [list(row) for row in segno.make_qr(code, error='m').matrix]",
    "n, border, scale, W, H = len(matrix), 4, 10, 640, 480",
    "ox, oy = (W - (n + 2 * border) * scale) // 2, (H - (n + 2 * border) * scale) // 2",
    "Y = bytearray([235]) * (W * H)",
    "for y in range(n):",
    "    for x in range(n):",
    "        if matrix[y][x]:",
    "            for dy in range(scale):",
    "                at = (oy + (border + y) * scale + dy) * W + ox + (border + x) * scale",
    "                Y[at:at + scale] = bytes([16]) * scale",
    "UV = bytes([128]) * ((W // 2) * (H // 2))",
    "with open(path, 'wb') as f:",
    "    f.write(f'YUV4MPEG2 W{W} H{H} F10:1 Ip A1:1 C420jpeg\\n'.encode())",
    "    for _ in range(5):",
    "        f.write(b'FRAME\\n' + bytes(Y) + UV + UV)",
  ].join("\n");
  const run = spawnSync(python, ["-c", script, code, path], { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`could not draw the QR video: ${run.stderr}`);
}

test("the camera reads the QR code from the student's app and opens the order", async ({}, testInfo) => {
  const kitchen = await staffSession("kitchen");
  const customer = await customerSession();
  const order = await placeOrder(customer.access_token, [{ item: await menuItem("Masala Dosa"), quantity: 1 }]);
  for (const status of ["preparing", "ready"]) {
    await call("PATCH", `/admin/orders/${order.id}/status`, { token: kitchen.access_token, body: { status } });
  }
  const video = testInfo.outputPath("qr.y4m");
  qrVideo(order.pickup_code, video);
  // Chromium's fake camera plays the video: the scanner sees the code as a webcam would.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      ...CHROMIUM_ARGS,
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      `--use-file-for-fake-video-capture=${video}`,
    ],
  });
  try {
    const context = await browser.newContext({ baseURL: e2eEnv().baseURL, permissions: ["camera"] });
    await context.addInitScript(
      (stored) => window.localStorage.setItem("canteen.portal.session", stored),
      JSON.stringify({
        accessToken: kitchen.access_token,
        refreshToken: kitchen.refresh_token,
        accessExpiresAt: Date.now() + kitchen.expires_in * 1000,
        user: kitchen.user,
      }),
    );
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto("/portal/counter");
    await page.getByRole("button", { name: "Scan QR" }).click();
    const match = page.getByRole("region", { name: `Order ${order.number}` });
    await expect(match).toBeVisible({ timeout: 15_000 });
    await expect(page.getByLabel("Pickup code")).toHaveValue(order.pickup_code);
    await match.getByRole("button", { name: "Hand over" }).click();
    await expect(match).toHaveCount(0);
    const done = await call<{ status: string }>("GET", `/admin/orders/${order.id}`, { token: kitchen.access_token });
    expect(done.status).toBe("completed");
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
  }
});

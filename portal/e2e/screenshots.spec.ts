/**
 * Takes docs/portal-board.png, docs/portal-menu.png, docs/portal-menu-item.png and
 * docs/portal-settings.png at 1280×800 on a fresh demo canteen with a rush of
 * orders placed through the API. Run with `npm run screenshots`.
 *
 * A new board has only just-placed orders; to show how waiting tickets change colour, this
 * script makes the orders look older by moving their `created_at` back (the answers of the
 * orders API are rewritten in the browser for the screenshot; nothing else is altered).
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import type { Page } from "@playwright/test";

import { call, customerSession, menuItem, placeOrder, staffSession, type MenuItemOut } from "./support/api";
import { e2eEnv } from "./support/env";
import { expect, test, ticket } from "./support/fixtures";

const docs = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs");

const PHOTOS: Record<string, [string, string, string]> = {
  // item: background, plate food colour, accent
  "Masala Dosa": ["#f3d9a4", "#d89a3a", "#7a9a3a"],
  "Veg Thali": ["#e9d2c0", "#e0b13a", "#b5452a"],
  "Chicken Biryani": ["#f0cda8", "#d9822b", "#7a3b1c"],
  "Idli Sambar (2 pcs)": ["#dfe8d8", "#f5f1e6", "#c0692a"],
  "Paneer Butter Masala with 2 Rotis": ["#f2d6c4", "#e07a3a", "#f4e3c1"],
  "Masala Chai": ["#e8dccb", "#b98a5a", "#6b4a2b"],
  "Medu Vada (2 pcs)": ["#efe0c2", "#c98b3a", "#8a5a2a"],
  "Veg Biryani": ["#f0d9b5", "#e3a03a", "#5a8a3a"],
};

async function drawPhoto(page: Page, [bg, food, accent]: [string, string, string]): Promise<Buffer> {
  const dataUrl = await page.evaluate(
    ({ bg, food, accent }) => {
      const canvas = document.createElement("canvas");
      canvas.width = 800;
      canvas.height = 600;
      const ctx = canvas.getContext("2d")!;
      const g = ctx.createLinearGradient(0, 0, 800, 600);
      g.addColorStop(0, bg);
      g.addColorStop(1, "#ffffff");
      ctx.fillStyle = g;
      ctx.fillRect(0, 0, 800, 600);
      ctx.shadowColor = "rgba(0,0,0,0.25)";
      ctx.shadowBlur = 40;
      ctx.shadowOffsetY = 16;
      ctx.fillStyle = "#fbfbf8";
      ctx.beginPath();
      ctx.ellipse(400, 300, 250, 215, 0, 0, Math.PI * 2);
      ctx.fill();
      ctx.shadowColor = "transparent";
      ctx.strokeStyle = "#e7e4dc";
      ctx.lineWidth = 6;
      ctx.beginPath();
      ctx.ellipse(400, 300, 200, 170, 0, 0, Math.PI * 2);
      ctx.stroke();
      const r = ctx.createRadialGradient(380, 280, 20, 400, 300, 160);
      r.addColorStop(0, "#fff3d6");
      r.addColorStop(0.35, food);
      r.addColorStop(1, accent);
      ctx.fillStyle = r;
      ctx.beginPath();
      ctx.ellipse(400, 300, 150, 120, -0.3, 0, Math.PI * 2);
      ctx.fill();
      for (let i = 0; i < 14; i += 1) {
        ctx.fillStyle = i % 2 ? accent : "#6c8f3a";
        ctx.beginPath();
        ctx.arc(330 + ((i * 53) % 150), 250 + ((i * 37) % 110), 6 + (i % 3) * 2, 0, Math.PI * 2);
        ctx.fill();
      }
      return canvas.toDataURL("image/png");
    },
    { bg, food, accent },
  );
  return Buffer.from(dataUrl.split(",")[1]!, "base64");
}

async function uploadPhoto(token: string, item: MenuItemOut, png: Buffer): Promise<void> {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(png)], { type: "image/png" }), `${item.id}.png`);
  const response = await fetch(`${e2eEnv().apiURL}/api/v1/admin/menu/items/${item.id}/image`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}` },
    body: form,
  });
  if (!response.ok) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
}

/** Make the board's orders look older than they are (see the note at the top). */
async function backdate(page: Page, minutesByNumber: Map<string, number>): Promise<void> {
  await page.route(/\/api\/v1\/admin\/orders(\/[0-9a-f-]{36})?(\?.*)?$/, async (route) => {
    const response = await route.fetch();
    const body = (await response.json()) as { data: unknown };
    const shift = (o: Record<string, unknown>) => {
      const minutes = minutesByNumber.get(String(o.number)) ?? 0;
      const ms = minutes * 60_000;
      o.created_at = new Date(Date.parse(String(o.created_at)) - ms).toISOString();
      o.age_seconds = Number(o.age_seconds) + minutes * 60;
      if (o.estimated_ready_at)
        o.estimated_ready_at = new Date(Date.parse(String(o.estimated_ready_at)) - ms).toISOString();
    };
    if (Array.isArray(body.data)) body.data.forEach((o) => shift(o as Record<string, unknown>));
    else if (body.data) shift(body.data as Record<string, unknown>);
    await route.fulfill({ response, json: body });
  });
}

test("documentation screenshots", async ({ page, signIn }) => {
  const admin = await staffSession("admin");
  const kitchen = await staffSession("kitchen");
  const delivery = await staffSession("delivery");
  for (const [name, colours] of Object.entries(PHOTOS)) {
    await uploadPhoto(admin.access_token, await menuItem(name), await drawPhoto(page, colours));
  }

  const names = [
    "Aditi Sharma",
    "Rahul Verma",
    "Sneha Iyer",
    "Karthik Nair",
    "Fatima Khan",
    "Vikram Singh",
    "Ananya Rao",
  ];
  const customers = [];
  for (const name of names) {
    const c = await customerSession();
    await call("PATCH", "/users/me", { token: c.access_token, body: { name } });
    customers.push(c);
  }
  const item = async (name: string) => menuItem(name);
  const move = (id: string, status: string, extra: Record<string, string> = {}) =>
    call("PATCH", `/admin/orders/${id}/status`, { token: kitchen.access_token, body: { status, ...extra } });
  const age = new Map<string, number>();
  const at = <T extends { number: string }>(order: T, minutes: number): T => {
    age.set(order.number, minutes);
    return order;
  };

  // A rush in the slot being served now (lunch when none is), oldest first.
  const slot = (await call<{ current_time_slot: string | null }>("GET", "/config/public")).current_time_slot ?? "lunch";
  const o1 = at(
    await placeOrder(
      customers[0]!.access_token,
      [
        { item: await item("Veg Thali"), quantity: 2 },
        { item: await item("Masala Chai"), quantity: 2 },
      ],
      { order_type: "delivery", delivery_address: "Library, 2nd floor reading room", prefer_slot: slot },
    ),
    16,
  );
  const o2 = at(
    await placeOrder(customers[1]!.access_token, [{ item: await item("Chicken Biryani"), quantity: 1 }], {
      prefer_slot: slot,
    }),
    13,
  );
  const o3 = at(
    await placeOrder(
      customers[2]!.access_token,
      [
        { item: await item("Masala Dosa"), quantity: 2, notes: "extra chutney" },
        { item: await item("Masala Chai"), quantity: 1 },
      ],
      { prefer_slot: slot },
    ),
    11,
  );
  const o4 = at(
    await placeOrder(
      customers[3]!.access_token,
      [
        { item: await item("Paneer Butter Masala with 2 Rotis"), quantity: 1 },
        { item: await item("Veg Biryani"), quantity: 1 },
      ],
      { prefer_slot: slot },
    ),
    9,
  );
  const o5 = at(
    await placeOrder(customers[4]!.access_token, [{ item: await item("Veg Thali"), quantity: 1 }], {
      instructions: "No onion, please",
      prefer_slot: slot,
    }),
    7,
  );
  const o6 = at(
    await placeOrder(
      customers[5]!.access_token,
      [
        { item: await item("Masala Dosa"), quantity: 1 },
        { item: await item("Curd Rice"), quantity: 1 },
      ],
      { prefer_slot: slot },
    ),
    5,
  );
  const o7 = at(
    await placeOrder(customers[6]!.access_token, [{ item: await item("Egg Biryani"), quantity: 2 }], {
      payment_method: "upi",
      prefer_slot: slot,
    }),
    2,
  );
  const o8 = at(
    await placeOrder(
      customers[0]!.access_token,
      [
        { item: await item("Veg Hakka Noodles"), quantity: 1 },
        { item: await item("Gobi Manchurian"), quantity: 1 },
      ],
      { prefer_slot: slot },
    ),
    1,
  );

  const staff = await call<{ id: string; role: string }[]>("GET", "/admin/staff?per_page=100", {
    token: admin.access_token,
  });
  const rider = staff.find((s) => s.role === "delivery")!;
  await move(o1.id, "preparing");
  await move(o1.id, "ready");
  await call("POST", `/admin/orders/${o1.id}/assign-delivery`, {
    token: kitchen.access_token,
    body: { staff_id: rider.id },
  });
  await call("PATCH", `/delivery/orders/${o1.id}/status`, {
    token: delivery.access_token,
    body: { status: "out_for_delivery" },
  });
  await move(o2.id, "preparing");
  await move(o2.id, "ready");
  await move(o3.id, "preparing");
  await move(o4.id, "preparing");

  await page.setViewportSize({ width: 1280, height: 800 });
  await signIn("admin");
  await backdate(page, age);
  await page.goto("/portal/board");
  await expect(ticket(page, o8.number)).toBeVisible();
  await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
  // One more comes in while the kitchen watches: the alert and the highlighted ticket.
  const fresh = await placeOrder(
    customers[3]!.access_token,
    [
      { item: await item("Masala Dosa"), quantity: 1 },
      { item: await item("Masala Chai"), quantity: 2 },
    ],
    { prefer_slot: slot },
  );
  await expect(ticket(page, fresh.number)).toBeVisible();
  await expect(page.locator(".new-order-banner")).toBeVisible();
  await page.mouse.move(0, 799);
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(docs, "portal-board.png") });
  void [o5, o6, o7];

  await page.goto("/portal/menu");
  await expect(page.getByRole("rowheader", { name: /Masala Dosa/ })).toBeVisible();
  await page.getByRole("switch", { name: "Medu Vada (2 pcs) available" }).click();
  await expect(page.getByRole("switch", { name: "Medu Vada (2 pcs) available" })).toHaveAttribute(
    "aria-checked",
    "false",
  );
  await page.getByRole("switch", { name: "Medu Vada (2 pcs) available" }).blur();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(docs, "portal-menu.png") });

  const dosa = await menuItem("Masala Dosa");
  await page.goto(`/portal/menu/items/${dosa.id}`);
  await expect(page.getByRole("img", { name: "Current photo of Masala Dosa" })).toBeVisible();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(docs, "portal-menu-item.png") });

  await page.goto("/portal/settings");
  await expect(page.getByRole("switch", { name: "Pause new orders" })).toBeVisible();
  await expect(page.getByRole("rowheader", { name: "lunch" })).toBeVisible();
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(docs, "portal-settings.png") });
});

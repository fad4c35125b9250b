import { randomUUID } from "node:crypto";

import { call, customerSession, menuItem, type MenuItemOut, type PlacedOrder } from "./support/api";
import { expect, test, ticket } from "./support/fixtures";

interface Option {
  id: string;
  name: string;
  price_delta: number;
  is_available: boolean;
}
interface Group {
  id: string;
  name: string;
  kind: string;
  required: boolean;
  min_select: number;
  max_select: number;
  options: Option[];
}
type WithGroups = MenuItemOut & { option_groups: Group[] };

const withGroups = async (name: string) => (await menuItem(name)) as WithGroups;

test.describe("options on dishes", () => {
  test("an admin adds an option group in the item editor; a mistake is caught before saving", async ({
    page,
    signIn,
  }) => {
    await signIn("admin");
    const before = await withGroups("Rava Upma");
    expect(before.option_groups).toEqual([]);
    await page.goto("/portal/menu");
    await page.getByRole("link", { name: "Rava Upma" }).click();
    await expect(page.getByRole("heading", { name: "Edit Rava Upma" })).toBeVisible();

    await page.getByRole("button", { name: "Add option group" }).click();
    const group = page.getByRole("region", { name: "Option group Group 1" });
    await group.getByLabel("Group name").fill("Spice");
    const spice = page.getByRole("region", { name: "Option group Spice" });
    await spice.getByRole("checkbox", { name: "Required" }).check();
    await spice.getByLabel("Spice: option 1 name").fill("Mild");
    await spice.getByRole("button", { name: "Add option to Spice" }).click();
    await spice.getByLabel("Spice: option 2 name").fill("Mild");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByText("Two options in “Spice” are called “Mild”.")).toBeVisible();
    expect((await withGroups("Rava Upma")).option_groups).toEqual([]); // nothing was sent

    await spice.getByLabel("Spice: option 2 name").fill("Hot");
    await spice.getByLabel("Spice: extra price of Hot (₹)").fill("5");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByText("Saved “Rava Upma”")).toBeVisible();
    const saved = await withGroups("Rava Upma");
    expect(saved.option_groups).toHaveLength(1);
    const [g] = saved.option_groups;
    expect([g!.name, g!.kind, g!.required, g!.min_select, g!.max_select]).toEqual(["Spice", "single", true, 1, 1]);
    expect(g!.options.map((o) => [o.name, o.price_delta, o.is_available])).toEqual([
      ["Mild", 0, true],
      ["Hot", 500, true],
    ]);

    // Reopened, the editor shows them; removing the group saves an empty list.
    await page.reload();
    await expect(page.getByRole("region", { name: "Option group Spice" }).getByLabel("Group name")).toHaveValue(
      "Spice",
    );
    await page.getByRole("button", { name: "Remove group Spice" }).click();
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByText("Saved “Rava Upma”")).toBeVisible();
    expect((await withGroups("Rava Upma")).option_groups).toEqual([]);
  });

  test("tickets show each line's options and the all-day counts add them up", async ({ page, signIn }) => {
    await signIn("kitchen");
    await page.goto("/portal/board");
    await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();

    const dosa = await withGroups("Dosa");
    const filling = dosa.option_groups.find((g) => g.name === "Filling")!;
    const option = (name: string) => filling.options.find((o) => o.name === name)!.id;
    const customer = await customerSession();
    // Two lines of the same dish with other fillings are two lines.
    const order = await call<PlacedOrder>("POST", "/orders", {
      token: customer.access_token,
      headers: { "X-Idempotency-Key": randomUUID() },
      body: {
        items: [
          { menu_item_id: dosa.id, quantity: 2, options: [option("Masala")] },
          { menu_item_id: dosa.id, quantity: 1, options: [option("Cheese")] },
        ],
        order_type: "pickup",
        payment_method: "cash",
        time_slot: dosa.time_slots[0],
      },
    });
    const card = ticket(page, order.number);
    await expect(card).toBeVisible();
    const lines = card.getByRole("list", { name: "Items" }).getByRole("listitem");
    await expect(lines).toHaveCount(2);
    await expect(lines.nth(0)).toContainText("2×");
    await expect(lines.nth(0).getByLabel("Options: Masala")).toHaveText("Masala");
    await expect(lines.nth(1)).toContainText("1×");
    await expect(lines.nth(1).getByLabel("Options: Cheese")).toHaveText("Cheese");

    const allDay = page.getByRole("region", { name: /All day/ });
    const row = allDay.getByRole("listitem").filter({ hasText: /^\d+Dosa/ });
    await expect(row).toContainText("Dosa");
    await expect(row.locator(".all-day-option")).toHaveText(["· 2 Masala", "· 1 Cheese"]);
  });
});

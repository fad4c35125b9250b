/**
 * Kitchen order tickets on paper (issue 17, part 7): Print on a board ticket lays the
 * ticket out for 80 mm paper and opens the print dialog; in print media only the ticket
 * shows. Takes docs/portal-ticket-print.png.
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { customerSession, menuItem, placeOrder } from "./support/api";
import { expect, test, ticket } from "./support/fixtures";

const docs = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs");

test("a ticket prints from the board in the 80 mm layout", async ({ page, signIn }) => {
  const customer = await customerSession();
  const order = await placeOrder(
    customer.access_token,
    [
      { item: await menuItem("Masala Dosa"), quantity: 2, notes: "no onion" },
      { item: await menuItem("Masala Chai"), quantity: 1 },
    ],
    { instructions: "less spicy" },
  );
  // The browser's print dialog cannot be driven: count the calls instead.
  await page.addInitScript(() => {
    const w = window as unknown as { __printed: number };
    w.__printed = 0;
    window.print = () => {
      w.__printed += 1;
    };
  });
  await signIn("kitchen");
  await page.goto("/portal/board");
  const card = ticket(page, order.number);
  await card.getByRole("button", { name: "Print ticket" }).click();
  expect(await page.evaluate(() => (window as unknown as { __printed: number }).__printed)).toBe(1);

  const printed = page.locator("#kot-print-root");
  await expect(printed).toBeHidden(); // on screen the board stays as it was
  await page.emulateMedia({ media: "print" });
  await expect(printed).toBeVisible();
  await expect(page.locator("#root")).toBeHidden(); // only the ticket is printed
  await expect(printed.locator(".kot-number")).toHaveText(order.number);
  await expect(printed.locator(".kot-line")).toHaveText(["2 × Masala Dosanote: no onion", "1 × Masala Chai"]);
  await expect(printed).toContainText("Instructions: less spicy");
  await expect(printed).not.toContainText(customer.phone);
  await expect(printed).not.toContainText(order.pickup_code);
  // 72 mm of printable width on 80 mm paper (96 px per inch).
  const box = await printed.boundingBox();
  expect(Math.round(box?.width ?? 0)).toBe(Math.round((72 / 25.4) * 96));
  await page.setViewportSize({ width: 320, height: 520 });
  await printed.screenshot({ path: join(docs, "portal-ticket-print.png") });
  await page.emulateMedia({ media: "screen" });
  await expect(printed).toBeHidden();
});

/**
 * The top bar fits the screens the portal is used on: every link and control of an admin
 * (the most links) inside the viewport, nothing scrolled sideways, from a 1280 px desktop
 * down to a 1024 px tablet in landscape.
 */
import { expect, test } from "./support/fixtures";

for (const width of [1024, 1280]) {
  test(`an admin's top bar fits ${width} px`, async ({ page, signIn }) => {
    await page.setViewportSize({ width, height: 800 });
    await signIn("admin");
    await page.goto("/portal/board");
    const nav = page.getByRole("navigation", { name: "Main" });
    await expect(nav.getByRole("link", { name: "Staff" })).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, "the page scrolls sideways").toBeLessThanOrEqual(0);
    const controls = [
      ...(await nav.getByRole("link").all()),
      page.getByRole("button", { name: /Sound/ }),
      page.getByRole("button", { name: "Sign out" }),
    ];
    for (const control of controls) {
      const box = await control.boundingBox();
      expect(box, `${await control.textContent()} is laid out`).not.toBeNull();
      expect(box!.x, `${await control.textContent()} starts inside`).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width, `${await control.textContent()} ends inside`).toBeLessThanOrEqual(width);
    }
  });
}

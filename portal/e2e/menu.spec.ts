import { call, menuItem, staffSession } from "./support/api";
import { expect, test } from "./support/fixtures";

// A 1×1 PNG (a valid image the backend re-encodes as WebP).
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC",
  "base64",
);

test.describe("the menu", () => {
  test("an admin edits an item; a bad value is refused and nothing is saved", async ({ page, signIn }) => {
    await signIn("admin");
    const item = await menuItem("Pongal");
    await page.goto("/portal/menu");
    await page.getByRole("link", { name: "Pongal" }).click();
    await expect(page.getByRole("heading", { name: "Edit Pongal" })).toBeVisible();

    // Client-side check first: nothing is sent.
    await page.getByLabel("Price (₹)").fill("abc");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByText("Enter the price in rupees")).toBeVisible();
    await expect(page.getByText("One field needs attention; nothing was saved.")).toBeVisible();
    expect((await menuItem("Pongal")).price).toBe(item.price);

    await page.getByLabel("Price (₹)").fill("52.50");
    await page.getByLabel("Prep time (minutes)").fill("12");
    await page.getByRole("checkbox", { name: "Dairy" }).check();
    await page.getByRole("checkbox", { name: "Lunch" }).check();
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByText("Saved “Pongal”")).toBeVisible();
    const saved = await menuItem("Pongal");
    expect(saved.price).toBe(5250);
    expect(saved.time_slots.sort()).toEqual(["breakfast", "lunch"]);
    const admin = await staffSession("admin");
    const full = await call<{ allergens: string[]; prep_minutes: number }>("GET", `/admin/menu/items/${item.id}`, {
      token: admin.access_token,
    });
    expect(full.allergens).toContain("dairy");
    expect(full.prep_minutes).toBe(12);
  });

  test.describe("server-side refusals", () => {
    test.use({ allowedConsoleErrors: [/Failed to load resource.*400/] });

    test("the photo: a fake image is refused with the server's reason, a real one is uploaded with a preview", async ({
      page,
      signIn,
    }) => {
      await signIn("admin");
      const item = await menuItem("Poha");
      await page.goto(`/portal/menu/items/${item.id}`);
      const chooser = page.getByLabel("Choose a photo");
      await chooser.setInputFiles({ name: "poha.png", mimeType: "image/png", buffer: Buffer.from("not really a png") });
      await expect(page.getByRole("img", { name: /Preview of the new photo/ })).toBeVisible();
      await page.getByRole("button", { name: "Upload photo" }).click();
      await expect(page.getByRole("alert")).toContainText(/not a supported image|damaged/);
      expect((await call<{ image_url: string | null }>("GET", `/menu/items/${item.id}`)).image_url).toBeNull();

      await chooser.setInputFiles({ name: "poha.png", mimeType: "image/png", buffer: PNG });
      await page.getByRole("button", { name: "Upload photo" }).click();
      await expect(page.getByText("Photo uploaded")).toBeVisible();
      await expect(page.getByRole("img", { name: "Current photo of Poha" })).toBeVisible();
      const after = await call<{ image_url: string | null }>("GET", `/menu/items/${item.id}`);
      expect(after.image_url).toMatch(/\.webp$/);
    });
  });

  test("the kitchen toggles availability in one tap", async ({ page, signIn }) => {
    await signIn("kitchen");
    await page.goto("/portal/menu");
    const toggle = page.getByRole("switch", { name: "Bhel Puri available" });
    await expect(toggle).toHaveAttribute("aria-checked", "true");
    // The kitchen edits nothing but availability.
    await expect(page.getByRole("link", { name: "New item" })).toHaveCount(0);
    await toggle.click();
    await expect(toggle).toHaveAttribute("aria-checked", "false");
    await expect.poll(async () => (await menuItem("Bhel Puri")).is_available).toBe(false);
    await toggle.press("Space");
    await expect(toggle).toHaveAttribute("aria-checked", "true");
    await expect.poll(async () => (await menuItem("Bhel Puri")).is_available).toBe(true);
  });
});

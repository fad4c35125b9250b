import { ApiFailure, call, customerSession, menuItem, placeOrder, staffSession } from "./support/api";
import { expect, test } from "./support/fixtures";

interface Config {
  ordering_paused: boolean;
  delivery_fee: number;
}

test.describe("settings", () => {
  test("pausing new orders takes effect at once and can be undone", async ({ page, signIn }) => {
    await signIn("admin");
    const admin = await staffSession("admin");
    await page.goto("/portal/settings");
    const pause = page.getByRole("switch", { name: "Pause new orders" });
    await expect(pause).toHaveAttribute("aria-checked", "false");
    await pause.click();
    await page.getByLabel("Delivery fee (₹)").fill("25");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect(page.getByText("Settings saved")).toBeVisible();
    await expect(page.getByText("New orders are paused.")).toBeVisible();
    await expect(page.locator(".topbar")).toContainText("Orders paused");
    const config = await call<Config>("GET", "/admin/config", { token: admin.access_token });
    expect(config).toMatchObject({ ordering_paused: true, delivery_fee: 2500 });

    const customer = await customerSession();
    const failure = await placeOrder(customer.access_token, [
      { item: await menuItem("Masala Chai"), quantity: 1 },
    ]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiFailure);
    expect((failure as ApiFailure).body).toMatchObject({ error: { code: "ORDERING_PAUSED" } });

    await page.getByRole("switch", { name: "Pause new orders" }).click();
    await page.getByLabel("Delivery fee (₹)").fill("20.00");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect(page.getByText("New orders are paused.")).toHaveCount(0);
    await expect
      .poll(async () => (await call<Config>("GET", "/admin/config", { token: admin.access_token })).ordering_paused)
      .toBe(false);
  });

  test.describe("server-side refusals", () => {
    test.use({ allowedConsoleErrors: [/Failed to load resource.*400/] });

    test("a time slot the server refuses shows the field's error and adds nothing", async ({ page, signIn }) => {
      await signIn("admin");
      const admin = await staffSession("admin");
      const before = await call<unknown[]>("GET", "/admin/time-slots", { token: admin.access_token });
      await page.goto("/portal/settings");
      const form = page.getByRole("form", { name: "Add a time slot" });
      await form.getByLabel("Code").fill("now");
      await form.getByLabel("Label").fill("Right now");
      await form.getByLabel("Starts").fill("23:00");
      await form.getByLabel("Ends").fill("23:30");
      await form.getByRole("button", { name: "Add slot" }).click();
      await expect(form.getByText(/reserved/)).toBeVisible();
      await expect(form.getByRole("alert")).toContainText("The slot was not added.");
      expect(await call<unknown[]>("GET", "/admin/time-slots", { token: admin.access_token })).toHaveLength(
        before.length,
      );

      await form.getByLabel("Code").fill("late_night");
      await form.getByRole("button", { name: "Add slot" }).click();
      await expect(page.getByText("Added Right now")).toBeVisible();
      await expect(page.getByRole("rowheader", { name: "late_night" })).toBeVisible();
    });
  });
});

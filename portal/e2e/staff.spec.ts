import { expect, test } from "./support/fixtures";

test.describe("staff accounts", () => {
  test.use({ allowedConsoleErrors: [/Failed to load resource.*409/] });

  test("an admin creates a delivery account, is refused a taken phone, and deactivates it", async ({
    page,
    signIn,
  }) => {
    await signIn("admin");
    await page.goto("/portal/staff");
    const form = page.getByRole("form", { name: "Add a staff account" });
    const phone = `98${String(Date.now()).slice(-8)}`;
    await form.getByLabel("Name").fill("Kiran (delivery)");
    await form.getByLabel("Phone").fill(phone);
    await form.getByLabel("Role").selectOption("delivery");
    await form.getByLabel("Password").fill("kiran-delivers");
    await form.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByText("Added Kiran (delivery) (Delivery)")).toBeVisible();
    const row = page.getByRole("row", { name: /Kiran \(delivery\)/ });
    await expect(row).toContainText("Active");

    await form.getByLabel("Name").fill("Someone else");
    await form.getByLabel("Phone").fill(phone);
    await form.getByLabel("Password").fill("another-password");
    await form.getByRole("button", { name: "Create account" }).click();
    await expect(form.getByRole("alert")).toContainText("The account was not created.");

    page.once("dialog", (dialog) => void dialog.accept());
    await row.getByRole("button", { name: "Deactivate" }).click();
    await expect(row).toContainText("Deactivated");
    await expect(row.getByRole("button", { name: "Reactivate" })).toBeVisible();
  });
});

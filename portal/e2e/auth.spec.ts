import { call, expiredAccessToken, latestOtp, staffSession } from "./support/api";
import { DEMO } from "./support/env";
import { expect, test } from "./support/fixtures";

test.describe("signing in", () => {
  test("kitchen staff sign in with phone and password and land on the live board", async ({ page }) => {
    await page.goto("/portal/");
    await expect(page).toHaveURL(/\/portal\/login/);
    await page.getByLabel("Phone number").fill("9000000002");
    await page.getByLabel("Password").fill(DEMO.kitchen.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/portal\/board$/);
    await expect(page.getByRole("heading", { name: /Live board/ })).toBeVisible();
    await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
    await expect(page.getByText("Ravi (kitchen)")).toBeVisible();
    // Kitchen staff see no admin pages.
    await expect(page.getByRole("link", { name: "Settings" })).toHaveCount(0);
  });

  test.describe("errors from the error contract", () => {
    test.use({ allowedConsoleErrors: [/Failed to load resource.*(401|400)/] });

    test("a wrong password is refused with the server's message", async ({ page }) => {
      await page.goto("/portal/login");
      await page.getByLabel("Phone number").fill(DEMO.kitchen.phone);
      await page.getByLabel("Password").fill("not-the-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(page.getByRole("alert")).toContainText("The phone number or password is wrong");
      await expect(page).toHaveURL(/\/portal\/login/);
    });

    test("a wrong one-time code shows the attempts left", async ({ page }) => {
      await page.goto("/portal/login");
      await page.getByRole("button", { name: "One-time code" }).click();
      await page.getByLabel("Phone number").fill(DEMO.admin.phone);
      await page.getByRole("button", { name: "Send code" }).click();
      await expect(page.getByLabel("6-digit code")).toBeVisible();
      const code = await latestOtp(DEMO.admin.phone);
      const wrong = code === "000000" ? "111111" : "000000";
      await page.getByLabel("6-digit code").fill(wrong);
      await page.getByRole("button", { name: "Verify and sign in" }).click();
      await expect(page.getByRole("alert")).toContainText("The code is not correct");
      await expect(page.getByText("This does not match. 4 attempts left.")).toBeVisible();
      await page.getByLabel("6-digit code").fill(code);
      await page.getByRole("button", { name: "Verify and sign in" }).click();
      await expect(page).toHaveURL(/\/portal\/board$/);
      await expect(page.getByRole("link", { name: "Settings" })).toBeVisible();
    });
  });

  test("a deep link survives the sign-in and a reload", async ({ page }) => {
    await page.goto("/portal/orders?status=completed");
    await expect(page).toHaveURL(/\/portal\/login\?next=/);
    await page.getByLabel("Phone number").fill(DEMO.admin.phone);
    await page.getByLabel("Password").fill(DEMO.admin.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/portal\/orders\?status=completed$/);
    await expect(page.getByRole("heading", { name: "Orders" })).toBeVisible();
    await page.reload();
    await expect(page.getByRole("heading", { name: "Orders" })).toBeVisible();
    await expect(page.getByLabel("Status")).toHaveValue("completed");
  });

  test.describe("token refresh", () => {
    test.use({ allowedConsoleErrors: [/Failed to load resource.*401/] });

    test("an expired access token is refreshed once and the requests retried", async ({ page }) => {
      const session = await staffSession("admin");
      const stale = expiredAccessToken(session.user);
      await page.addInitScript(
        (stored) => window.localStorage.setItem("canteen.portal.session", stored),
        JSON.stringify({
          accessToken: stale,
          refreshToken: session.refresh_token,
          accessExpiresAt: Date.now() - 60_000,
          user: session.user,
        }),
      );
      const refreshes: string[] = [];
      const requestIds = new Set<string>();
      page.on("request", (request) => {
        if (request.url().includes("/api/v1/auth/refresh")) refreshes.push(request.url());
        const id = request.headers()["x-request-id"];
        if (id && request.url().includes("/api/v1/admin/")) requestIds.add(id);
      });
      await page.goto("/portal/staff");
      await expect(page.getByRole("cell", { name: DEMO.kitchen.phone })).toBeVisible();
      await expect(page.getByRole("status").filter({ hasText: "Live" })).toBeVisible();
      // Several requests failed together (staff list, the feed, …): one refresh for all.
      expect(refreshes).toHaveLength(1);
      expect(requestIds.size).toBeGreaterThan(1);
      const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("canteen.portal.session")!));
      expect(stored.accessToken).not.toBe(stale);
      expect(stored.refreshToken).not.toBe(session.refresh_token);
      // The old refresh token was rotated: using it again is refused.
      await expect(call("POST", "/auth/refresh", { body: { refresh_token: session.refresh_token } })).rejects.toThrow(
        /401/,
      );
    });

    test("when the refresh is refused the portal goes back to the sign-in page", async ({ page }) => {
      const session = await staffSession("kitchen");
      await page.addInitScript(
        (stored) => window.localStorage.setItem("canteen.portal.session", stored),
        JSON.stringify({
          accessToken: expiredAccessToken(session.user),
          refreshToken: "revoked-or-unknown-refresh-token",
          accessExpiresAt: Date.now() - 60_000,
          user: session.user,
        }),
      );
      await page.goto("/portal/board");
      await expect(page).toHaveURL(/\/portal\/login\?next=%2Fboard/);
      await expect(page.getByText("Your session has ended")).toBeVisible();
    });
  });
});

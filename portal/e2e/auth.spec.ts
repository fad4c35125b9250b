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

    test("staff have no one-time code sign-in, and the API refuses one for a staff phone", async ({ page }) => {
      await page.goto("/portal/login");
      await expect(page.getByLabel("Password")).toBeVisible();
      await expect(page.getByRole("button", { name: "One-time code" })).toHaveCount(0);
      // The customer OTP flow never yields a staff role, even with the right code.
      const sent = await page.request.post("/api/v1/auth/request-otp", { data: { phone: DEMO.admin.phone } });
      expect(sent.status()).toBe(200);
      const code = await latestOtp(DEMO.admin.phone);
      const refused = await page.request.post("/api/v1/auth/verify-otp", {
        data: { phone: DEMO.admin.phone, otp: code },
      });
      expect(refused.status()).toBe(403);
      expect((await refused.json()).error.code).toBe("STAFF_USE_PASSWORD");
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

/**
 * The tests' `test`: the portal's base URL from global setup, sign-in helpers, and a check
 * that the page logged no errors (a test lists the ones it expects, such as the browser's
 * own "Failed to load resource" line for a 401 it provokes on purpose).
 */
import { test as base, expect, type Page } from "@playwright/test";

import { staffSession, type SessionTokens } from "./api";
import { DEMO, e2eEnv } from "./env";

interface Fixtures {
  allowedConsoleErrors: RegExp[];
  consoleErrors: string[];
  signIn: (role: keyof typeof DEMO) => Promise<SessionTokens>;
}

export const test = base.extend<Fixtures>({
  baseURL: async ({}, use) => {
    await use(e2eEnv().baseURL);
  },
  allowedConsoleErrors: [[], { option: true }],
  consoleErrors: [
    async ({ page, allowedConsoleErrors }, use) => {
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() !== "error") return;
        const text = message.text();
        if (!allowedConsoleErrors.some((re) => re.test(text))) errors.push(text);
      });
      page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
      await use(errors);
      expect(errors, "the page logged errors").toEqual([]);
    },
    { auto: true },
  ],
  /** Sign in through the API and hand the session to the page (the UI sign-in has its own tests). */
  signIn: async ({ page }, use) => {
    await use(async (role) => {
      const session = await staffSession(role);
      await page.addInitScript(
        (stored) => {
          if (!window.sessionStorage.getItem("e2e-session-set")) {
            window.localStorage.setItem("canteen.portal.session", stored);
            window.sessionStorage.setItem("e2e-session-set", "1");
          }
        },
        JSON.stringify({
          accessToken: session.access_token,
          refreshToken: session.refresh_token,
          accessExpiresAt: Date.now() + session.expires_in * 1000,
          user: session.user,
        }),
      );
      return session;
    });
  },
});

export { expect };

/** The board's ticket for an order number (a list item in one of the columns). */
export function ticket(page: Page, number: string) {
  return page.locator(`li.ticket[data-order-number="${number}"]`);
}

export function column(page: Page, title: string) {
  return page.getByRole("region", { name: new RegExp(`^${title}`) });
}

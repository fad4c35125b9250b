import { expect, test } from "@playwright/test";

import { e2eEnv } from "./support/env";

/** How the backend serves the build (canteen.portal.mount_portal). */
test.describe("the portal as the backend serves it", () => {
  test("deep links get the app; hashed assets are cached for good; missing files are 404 in the error contract", async ({
    request,
  }) => {
    const { apiURL } = e2eEnv();
    const bare = await request.get(`${apiURL}/portal`, { maxRedirects: 0 });
    expect(bare.status()).toBe(308);
    expect(bare.headers()["location"]).toBe("/portal/");

    for (const path of [
      "/portal/",
      "/portal/board",
      "/portal/orders/3f1c2d9e-0000-4000-8000-000000000000",
      "/portal/menu/items/new",
    ]) {
      const page = await request.get(`${apiURL}${path}`);
      expect(page.status(), path).toBe(200);
      expect(page.headers()["content-type"]).toContain("text/html");
      expect(page.headers()["cache-control"]).toBe("no-cache");
      expect(page.headers()["content-security-policy"]).toContain("default-src 'self'");
      expect(await page.text()).toContain('<div id="root">');
    }

    const html = await (await request.get(`${apiURL}/portal/`)).text();
    const script = html.match(/src="(\/portal\/assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeTruthy();
    const asset = await request.get(`${apiURL}${script}`);
    expect(asset.status()).toBe(200);
    expect(asset.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(asset.headers()["content-type"]).toContain("javascript");

    for (const path of ["/portal/assets/index-00000000.js", "/portal/robots.txt"]) {
      const missing = await request.get(`${apiURL}${path}`);
      expect(missing.status(), path).toBe(404);
      expect(await missing.json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    }
  });
});

import { defineConfig } from "@playwright/test";

import base from "./playwright.config";

/** `npm run screenshots`: the documentation images in docs/, against a fresh demo backend. */
export default defineConfig({
  ...base,
  testMatch: /screenshots\.spec\.ts$/,
  testIgnore: [],
  timeout: 120_000,
});

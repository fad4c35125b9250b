/**
 * Starts the real backend for the end-to-end suite: `canteen serve` on a free port, with a
 * fresh temporary CANTEEN_DATA_DIR (embedded default: SQLite, in-process bus, demo data),
 * serving the built portal from portal/dist, behind a relay the tests can cut.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { stopBackend } from "./global-teardown";
import { startRelay, type Relay } from "./support/relay";

const portal = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(portal, "..");

export interface E2EHandles {
  server: ChildProcess;
  relay: Relay | null;
  dataDir: string;
}

declare global {
  var __canteenE2E: E2EHandles | undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function waitFor(url: string, ok: (r: Response) => boolean, server: ChildProcess, seconds = 90) {
  const deadline = Date.now() + seconds * 1000;
  let last = "";
  while (Date.now() < deadline) {
    if (server.exitCode !== null)
      throw new Error(`the backend exited with code ${server.exitCode}; see test-results/backend.log`);
    try {
      const response = await fetch(url);
      if (ok(response)) return response;
      last = `${response.status} ${await response.text()}`.slice(0, 300);
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${url}: ${last}`);
}

export default async function globalSetup(): Promise<void> {
  const dist = join(portal, "dist", "index.html");
  if (!existsSync(dist))
    throw new Error("portal/dist is missing: run `npm run build` first (portal/scripts/setup.sh does)");

  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "canteen-e2e-"));
  const secretKey = "e2e-only-secret-key-0123456789abcdef0123456789abcdef";
  // The caller's CANTEEN_* (a PostgreSQL or Redis URL from another suite, say) must not leak in.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith("CANTEEN_")),
  );
  Object.assign(env, {
    CANTEEN_ENV: "development",
    CANTEEN_DATA_DIR: dataDir,
    CANTEEN_PORTAL_DIST: join(portal, "dist"),
    CANTEEN_SECRET_KEY: secretKey,
    // Every test signs in from 127.0.0.1: lift the per-IP limits, keep the per-phone ones.
    CANTEEN_AUTH_ATTEMPTS_PER_MINUTE_PER_IP: "1000",
    CANTEEN_OTP_REQUESTS_PER_HOUR_PER_IP: "1000",
  });

  const command = (process.env.CANTEEN_E2E_SERVER_CMD ?? join(repo, ".venv", "bin", "canteen")).split(" ");
  const [bin, ...args] = command as [string, ...string[]];
  mkdirSync(join(portal, "test-results"), { recursive: true });
  const log = createWriteStream(join(portal, "test-results", "backend.log"));
  const server = spawn(bin, [...args, "serve", "--host", "127.0.0.1", "--port", String(port)], {
    cwd: repo,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  server.stdout?.pipe(log);
  server.stderr?.pipe(log);

  const apiURL = `http://127.0.0.1:${port}`;
  const handles: E2EHandles = { server, relay: null, dataDir };
  globalThis.__canteenE2E = handles;
  let relay: Relay;
  try {
    relay = await startRelay(port);
    handles.relay = relay;
    await waitFor(`${apiURL}/healthz`, (r) => r.ok, server);
    const portalPage = await fetch(`${apiURL}/portal/`);
    if (!portalPage.ok || !(portalPage.headers.get("content-type") ?? "").includes("text/html")) {
      throw new Error(
        `the backend does not serve the portal at /portal/ (${portalPage.status}); ` +
          "backend/src/canteen/app.py must call canteen.portal.mount_portal (see docs/portal.md)",
      );
    }
  } catch (error) {
    // Leave nothing running behind a failed start.
    globalThis.__canteenE2E = undefined;
    await stopBackend(handles);
    throw error;
  }

  await liftKitchenCapacity(apiURL);

  process.env.CANTEEN_E2E_API_URL = apiURL;
  process.env.CANTEEN_E2E_BASE_URL = `http://127.0.0.1:${relay.port}`;
  process.env.CANTEEN_E2E_RELAY_URL = `http://127.0.0.1:${relay.controlPort}`;
  process.env.CANTEEN_E2E_SECRET_KEY = secretKey;
  // The backend's SQLite file lives here: a test may move an order's clock back (no-shows).
  process.env.CANTEEN_E2E_DATA_DIR = dataDir;
}

/**
 * The suite places many orders on one backend; with the default capacity (15 kitchen minutes per
 * window per kitchen staff member) the demo's slots fill up and later specs would get SLOT_FULL.
 * Capacity is not what these specs test, so every demo slot gets the most a window may hold.
 */
async function liftKitchenCapacity(apiURL: string): Promise<void> {
  const api = `${apiURL}/api/v1`;
  const login = await fetch(`${api}/auth/staff-login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ phone: "+919000000001", password: "canteen-admin" }),
  });
  if (!login.ok) throw new Error(`admin sign-in failed: ${login.status} ${await login.text()}`);
  const token = ((await login.json()) as { data: { access_token: string } }).data.access_token;
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${token}` };
  const slots = await fetch(`${api}/admin/time-slots`, { headers });
  if (!slots.ok) throw new Error(`time slots: ${slots.status}`);
  for (const slot of ((await slots.json()) as { data: { code: string }[] }).data) {
    const r = await fetch(`${api}/admin/kitchen/capacity`, {
      method: "PUT",
      headers,
      body: JSON.stringify({ time_slot: slot.code, minutes_per_window: 1440 }),
    });
    if (!r.ok) throw new Error(`capacity of ${slot.code}: ${r.status} ${await r.text()}`);
  }
}

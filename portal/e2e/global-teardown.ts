import { rmSync } from "node:fs";

import type { E2EHandles } from "./global-setup";

/** Stops the backend this run started (its own process group only) and removes its data. */
export async function stopBackend(handles: E2EHandles): Promise<void> {
  const { server, relay, dataDir } = handles;
  await relay?.close().catch(() => undefined);
  if (server.exitCode === null && server.signalCode === null && server.pid) {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    try {
      process.kill(-server.pid, "SIGTERM");
    } catch {
      server.kill("SIGTERM");
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-server.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(dataDir, { recursive: true, force: true });
}

export default async function globalTeardown(): Promise<void> {
  const handles = globalThis.__canteenE2E;
  if (!handles) return;
  globalThis.__canteenE2E = undefined;
  await stopBackend(handles);
}

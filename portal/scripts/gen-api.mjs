#!/usr/bin/env node
// Regenerates portal/openapi.json from the backend's FastAPI app (no server needed).
// `npm run build` calls it with --if-backend: when the repository's .venv is there the
// checked-in contract is refreshed first, so a backend change that breaks the portal's
// types fails `tsc` in the build instead of failing in the kitchen.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const portal = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repo = resolve(portal, "..");
const python = process.env.CANTEEN_PYTHON ?? join(repo, ".venv", "bin", "python");
const target = join(portal, "openapi.json");
const optional = process.argv.includes("--if-backend");

if (!existsSync(python)) {
  if (optional) {
    console.log(`gen:api: ${python} not found; using the checked-in openapi.json`);
    process.exit(0);
  }
  console.error(`gen:api: ${python} not found; run scripts/setup.sh at the repository root first`);
  process.exit(1);
}

// A clean, deterministic environment: development settings, a throwaway data dir (the app
// factory creates its media folder), none of the caller's CANTEEN_* overrides.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("CANTEEN_")));
const dataDir = mkdtempSync(join(tmpdir(), "canteen-openapi-"));
env.CANTEEN_ENV = "development";
env.CANTEEN_DATA_DIR = dataDir;

const code = [
  "import json",
  "from canteen.app import create_app",
  "print(json.dumps(create_app().openapi(), indent=2, ensure_ascii=False))",
].join("; ");
const run = spawnSync(python, ["-c", code], { env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
rmSync(dataDir, { recursive: true, force: true });
if (run.status !== 0) {
  console.error(run.stderr);
  console.error("gen:api: the backend could not produce its OpenAPI document");
  process.exit(1);
}
const next = run.stdout.trimEnd() + "\n";
JSON.parse(next); // refuse to write anything that is not JSON
const previous = existsSync(target) ? readFileSync(target, "utf8") : "";
if (previous === next) {
  console.log("gen:api: openapi.json is up to date");
} else {
  writeFileSync(target, next);
  console.log("gen:api: openapi.json updated from the backend");
}

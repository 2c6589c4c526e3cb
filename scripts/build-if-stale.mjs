// Builds the packages `npm start` runs from dist/ when their output is missing or older than their sources.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * What `npm start` needs built: each package's folder, name, source folders (relative to its folder)
 * and a file its build must leave. A Vite bundle includes @creditmeter/shared's sources (the
 * "source" condition), so shared/src is among its sources: edited alone, it must rebuild the bundle.
 */
export const BUILT = [
  { dir: "shared", name: "@creditmeter/shared", sources: ["src"], entry: "dist/index.js" },
  // Imports shared's dist/ at run time (rebuilt when shared is stale), so its own sources suffice.
  { dir: "server", name: "@creditmeter/server", sources: ["src"], entry: "dist/main.js" },
  // The script bundle the server serves at /sdk/creditmeter-panel.js (and the panel's ESM build).
  {
    dir: "client/panel",
    name: "@creditmeter/panel",
    sources: ["src", "../../shared/src"],
    entry: "dist/creditmeter-panel.js",
  },
  // The pages the server serves (client/dist/ui, built by Vite from pages/, src/ and the panel's sources).
  {
    dir: "client",
    name: "@creditmeter/client",
    sources: ["src", "pages", "panel/src", "../shared/src"],
    entry: "dist/ui/index.html",
  },
];

/** Newest modification time (ms) of the files under `dir` that `keep` accepts; 0 when there are none. */
function newest(dir, keep) {
  if (!existsSync(dir)) return 0;
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const time = entry.isDirectory() ? newest(path, keep) : keep(entry.name) ? statSync(path).mtimeMs : 0;
    if (time > latest) latest = time;
  }
  return latest;
}

// Tests are excluded from the build (tsconfig.build.json), so editing one must not trigger a rebuild.
const isBuiltSource = (name) => !/\.test(-d)?\.ts$/.test(name);

/** The packages of `packages` whose entry is missing or whose dist/ is older than their src/. */
export function stalePackages(root, packages = BUILT) {
  return packages.filter(({ dir, sources, entry }) => {
    if (!existsSync(join(root, dir, entry))) return true;
    // Compare against the newest output, not the entry alone: an incremental build rewrites only what changed.
    const source = Math.max(...sources.map((s) => newest(join(root, dir, s), isBuiltSource)));
    return source > newest(join(root, dir, "dist"), () => true);
  });
}

/** Runs `turbo run build` for the stale packages (turbo builds their dependencies first); throws on failure. */
export function buildStale(root, log) {
  const stale = stalePackages(root);
  if (stale.length === 0) return;
  log(`building ${stale.map((p) => p.dir).join(", ")} (dist missing or older than src)`);
  const filters = stale.map((p) => `--filter=${p.name}`);
  const run = spawnSync("npx", ["turbo", "run", "build", ...filters, "--output-logs=errors-only"], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1", TURBO_NO_UPDATE_NOTIFIER: "1" },
  });
  if (run.status !== 0) throw new Error(`the build failed (npx turbo run build exited ${run.status ?? run.signal})`);
  const missing = stale.filter(({ dir, entry }) => !existsSync(join(root, dir, entry)));
  if (missing.length > 0) {
    throw new Error(`the build did not produce ${missing.map(({ dir, entry }) => `${dir}/${entry}`).join(", ")}`);
  }
}

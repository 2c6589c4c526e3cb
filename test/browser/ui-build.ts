import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const CLIENT = fileURLToPath(new URL("../../client/", import.meta.url));
const BUILT = join(CLIENT, "dist", "ui", "index.html");
const SOURCES = ["pages", "src/pages", "panel/src", "vite.config.ts"].map((p) => join(CLIENT, p));

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Runs `vite build` for the pages when client/dist/ui is missing or older than its sources. */
export function buildUiIfStale(): void {
  const built = existsSync(BUILT) ? statSync(BUILT).mtimeMs : 0;
  if (built > 0 && built >= Math.max(...SOURCES.map(newest))) return;
  execFileSync("npx", ["vite", "build", "--logLevel", "error"], { cwd: CLIENT, stdio: "inherit" });
}

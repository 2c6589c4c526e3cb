import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where Vite writes the pages (client/dist/ui). Resolved from this file, so it holds whether the
 * server runs from src/ (tsx, tests) or dist/ — both are two levels below server/.
 */
export function defaultUiDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(here, "..", "..", "..", "client", "dist", "ui");
}

/** True when the built pages are there to be served. */
export function uiBuilt(uiDir: string): boolean {
  return existsSync(join(uiDir, "index.html"));
}

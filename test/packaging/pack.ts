import { execFile, execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUILT, stalePackages } from "../../scripts/build-if-stale.mjs";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The published packages, in build order (the panel and the reporter compile against shared's dist). */
export const PACKAGES = [
  { name: "@creditmeter/shared", dir: "shared", entry: "dist/index.js" },
  { name: "@creditmeter/panel", dir: "client/panel", entry: "dist/creditmeter-panel.js" },
  { name: "@creditmeter/reporter", dir: "client/reporter", entry: "dist/index.js" },
] as const;
export type PackageName = (typeof PACKAGES)[number]["name"];

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
}

/** Each package's package.json, read from the repository. */
export function manifests(): Manifest[] {
  return PACKAGES.map(({ dir }) => JSON.parse(readFileSync(join(ROOT, dir, "package.json"), "utf8")) as Manifest);
}

/**
 * `npm pack` of every package into `into`; the tarball of each. Its prepack script builds dist/,
 * unless dist/ is already newer than src/ (as `npm test` leaves it: it builds what is stale before
 * the tests), so the same tsc and vite builds do not run twice in one run.
 */
export function packAll(into: string): Record<PackageName, string> {
  const tarballs = {} as Record<PackageName, string>;
  for (const { name, dir, entry } of PACKAGES) {
    const before = new Set(readdirSync(into));
    // The panel's bundle includes shared's sources: BUILT says what each one is built from.
    const sources = BUILT.find((b) => b.dir === dir)?.sources ?? ["src"];
    const fresh = stalePackages(ROOT, [{ dir, name, sources, entry }]).length === 0;
    const args = ["pack", "--pack-destination", into, "--loglevel", "error", ...(fresh ? ["--ignore-scripts"] : [])];
    execFileSync("npm", args, { cwd: join(ROOT, dir), stdio: ["ignore", "ignore", "inherit"] });
    const made = readdirSync(into).find((f) => f.endsWith(".tgz") && !before.has(f));
    if (!made) throw new Error(`npm pack of ${name} left no tarball`);
    tarballs[name] = join(into, made);
  }
  return tarballs;
}

/** The version of a dependency the repository has installed, so the host's install can come from npm's cache. */
export function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string })
    .version;
}

/**
 * `npm install` of `specs` in `dir`, preferring npm's cache (the registry is reachable for what is
 * not cached). Asynchronous: the server under test shares this process.
 */
export function npmInstall(dir: string, specs: string[]): Promise<void> {
  const args = ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel", "error", ...specs];
  return new Promise((resolve, reject) => {
    execFile("npm", args, { cwd: dir, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`npm install in ${dir} failed:\n${stderr}`));
      else resolve();
    });
  });
}

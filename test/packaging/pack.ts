import { execFile, execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The published packages, in build order (the panel and the reporter compile against shared's dist). */
export const PACKAGES = [
  { name: "@creditmeter/shared", dir: "shared" },
  { name: "@creditmeter/panel", dir: "client/panel" },
  { name: "@creditmeter/reporter", dir: "client/reporter" },
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

/** `npm pack` of every package into `into` (its prepack script builds dist/); the tarball of each. */
export function packAll(into: string): Record<PackageName, string> {
  const tarballs = {} as Record<PackageName, string>;
  for (const { name, dir } of PACKAGES) {
    const before = new Set(readdirSync(into));
    execFileSync("npm", ["pack", "--pack-destination", into, "--loglevel", "error"], { cwd: join(ROOT, dir), stdio: ["ignore", "ignore", "inherit"] });
    const made = readdirSync(into).find((f) => f.endsWith(".tgz") && !before.has(f));
    if (!made) throw new Error(`npm pack of ${name} left no tarball`);
    tarballs[name] = join(into, made);
  }
  return tarballs;
}

/** The version of a dependency the repository has installed, so the host's install can come from npm's cache. */
export function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
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

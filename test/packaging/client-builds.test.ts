/**
 * The panel and the reporter are published, so test-only code beside their sources must never reach
 * a tarball. As in the server (docs/decisions.md, "Test-only modules ... *.test-support.ts"), it is
 * kept out by a name, not a list: a module no entry point imports is a test (`*.test.ts`) or test
 * support (`*.test-support.ts`), every build excludes both, and every file a build compiles is
 * reached from an entry point. The tarball (`npm pack --dry-run`) holds only what the build emits.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { TEST_ONLY, allSources, buildConfig, reachedFrom, sources } from "./build-reach.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const PACKAGES = [
  // src/bundle.ts is the script-tag bundle's entry (vite builds it; tsc does not).
  {
    dir: "client/panel",
    entries: ["src/index.ts", "src/sdk/index.ts", "src/bundle.ts"],
    bundle: /^dist\/creditmeter-panel\./,
  },
  { dir: "client/reporter", entries: ["src/index.ts"], bundle: null },
] as const;

const PackList = z.array(z.object({ files: z.array(z.object({ path: z.string() })) })).length(1);

/** The paths `npm pack` would put in the package's tarball (nothing is built: --ignore-scripts). */
function tarballPaths(pkgDir: string): string[] {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts", "--loglevel", "error"], {
    cwd: pkgDir,
    encoding: "utf8",
  });
  return PackList.parse(JSON.parse(out))[0]?.files.map((f) => f.path) ?? [];
}

describe.each(PACKAGES)("$dir's build", ({ dir, entries, bundle }) => {
  const pkgDir = join(ROOT, dir);
  const config = buildConfig(pkgDir);
  const built = sources(pkgDir, config.fileNames);
  const reached = reachedFrom(
    pkgDir,
    entries.map((e) => join(pkgDir, e)),
    config.options,
  );

  it("names every module no entry point imports *.test.ts or *.test-support.ts", () => {
    const unreached = allSources(pkgDir).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !reached.has(f));
    expect(
      unreached.filter((f) => !TEST_ONLY.test(f)),
      "imported by no entry point: test-only? name it *.test-support.ts",
    ).toEqual([]);
  });

  it("compiles no test-only module, and only what an entry point reaches", () => {
    expect(built.filter((f) => TEST_ONLY.test(f))).toEqual([]);
    expect(built.filter((f) => !f.endsWith(".d.ts") && !reached.has(f))).toEqual([]);
  });

  it("packs into dist only what the build emits", () => {
    const emitted = new Set(built.map((f) => f.slice(pkgDir.length + "/src/".length).replace(/\.ts$/, "")));
    const stray = tarballPaths(pkgDir)
      .filter((p) => p.startsWith("dist/") && !(bundle?.test(p) ?? false))
      .filter((p) => !emitted.has(p.slice("dist/".length).replace(/\.(js|d\.ts)(\.map)?$/, "")));
    expect(stray, "in the tarball but not built from a shipped source").toEqual([]);
  });
});

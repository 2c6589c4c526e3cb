/**
 * scripts/build-if-stale.mjs decides what `npm test` and `npm start` rebuild, and whether the
 * packaging test packs dist/ as it is (test/packaging/pack.ts). The panel's script bundle and the
 * pages bundle @creditmeter/shared's sources (vite, "source" condition): a change there alone must
 * make them stale, or the server serves, and the host-app test packs, the shared code of before.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BUILT, stalePackages } from "../../scripts/build-if-stale.mjs";

describe("build-if-stale", () => {
  const root = mkdtempSync(join(tmpdir(), "creditmeter-stale-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** Writes `path` under the root with the given modification time (seconds). */
  const file = (path: string, at: number): void => {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, "x");
    utimesSync(full, at, at);
  };

  it("a bundle is stale when only @creditmeter/shared's sources changed after it was built", () => {
    const built = 1_000_000;
    for (const p of BUILT) {
      for (const s of p.sources) file(join(p.dir, s, "a.ts"), built - 10);
      file(join(p.dir, p.entry), built);
    }
    expect(stalePackages(root).map((p) => p.dir)).toEqual([]);
    // shared/src edited: shared is stale, and so is every package that bundles it.
    file("shared/src/a.ts", built + 10);
    expect(stalePackages(root).map((p) => p.dir)).toEqual(["shared", "client/panel", "client"]);
  });
});

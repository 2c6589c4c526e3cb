/**
 * server/dist is what `npm start` and the image run, so test-only modules must stay out of it. The
 * build compiles every file under server/src its tsconfig.build.json does not exclude (tests and
 * `*.test-support.ts`, which the typecheck still covers): a test-only module named otherwise would
 * ship. So every file the build compiles must be imported, directly or not, by an entry point.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { TEST_ONLY, buildConfig, reachedFrom, sources } from "./build-reach.js";

const SERVER = fileURLToPath(new URL("../../server/", import.meta.url));
const ENTRIES = ["src/main.ts", "src/index.ts"].map((p) => join(SERVER, p));

describe("the server's build", () => {
  it("compiles no test-only module: every file it builds is reached from main.ts or index.ts", () => {
    const config = buildConfig(SERVER);
    const built = sources(SERVER, config.fileNames);
    expect(built).toEqual(expect.arrayContaining(ENTRIES));
    expect(built.filter((f) => TEST_ONLY.test(f))).toEqual([]);
    const reached = reachedFrom(SERVER, ENTRIES, config.options);
    expect(
      built.filter((f) => !reached.has(f)),
      "built but imported by no entry point: test-only? name it *.test-support.ts",
    ).toEqual([]);
  });
});

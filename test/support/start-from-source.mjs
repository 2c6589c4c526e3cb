// `npm start`'s launcher (scripts/launch.mjs) on the server's sources, so that tests exercise the
// launcher without a build. A private Redis keeps its data in CREDITMETER_TEST_REDIS_DATA.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launch } from "../../scripts/launch.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
await launch({
  cwd: root,
  serverArgs: ["--conditions=source", "--import", "tsx", "server/src/main.ts"],
  dataDir: process.env.CREDITMETER_TEST_REDIS_DATA ?? join(root, ".redis-data"),
});

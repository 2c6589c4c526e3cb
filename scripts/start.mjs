// `npm start`: builds what is stale, finds or starts Redis, then runs the metering server (CONTRACT §8).
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildStale } from "./build-if-stale.mjs";
import { launch } from "./launch.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
await launch({
  cwd: root,
  serverArgs: [join(root, "server/dist/main.js")],
  dataDir: join(root, ".redis-data"),
  prepare: (log) => buildStale(root, log),
});

// An archiver alone in its process, for the crash tests (harness.ts spawnArchiver): small
// batches and a short interval so that a SIGKILL lands between and inside transactions.
import { createClient, type RedisClientType } from "redis";
import { createHistoryPool } from "../../server/src/history/database.js";
import { startArchiver } from "../../server/src/history/archiver.js";

const redis: RedisClientType = createClient({ url: process.env.CHILD_REDIS_URL });
redis.on("error", () => undefined);
await redis.connect();
const pool = createHistoryPool(process.env.CHILD_DATABASE_URL ?? "", () => undefined);
startArchiver({
  pool,
  redis,
  namespace: process.env.CHILD_NAMESPACE ?? "",
  intervalMs: 10,
  batch: 4,
  onError: () => undefined,
});
process.stdout.write("ready\n");
setInterval(() => undefined, 60_000);

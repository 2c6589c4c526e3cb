import { afterAll, describe, expect, it } from "vitest";
import { createClient } from "redis";
import { startRedis, type TestRedis } from "./redis-server.js";

// Two test files run at once: a port picked as free can be taken before redis-server binds it.
describe("startRedis", () => {
  const started: TestRedis[] = [];
  afterAll(async () => {
    await Promise.all(started.map((r) => r.stop()));
  });

  it("never hands back another process's Redis on a taken port", async () => {
    const other = await startRedis();
    started.push(other);
    // Ours cannot bind the port the other holds: a PING there would be answered, by the other.
    await expect(startRedis([], other.port)).rejects.toThrow(/exited before it answered/);
    const c = createClient({ url: other.url });
    await c.connect();
    expect(await c.ping()).toBe("PONG");
    await c.close();
  });

  it("answers with its own server's pid", async () => {
    const own = await startRedis();
    started.push(own);
    const c = createClient({ url: own.url });
    await c.connect();
    expect(await c.info("server")).toContain(`process_id:${own.process.pid}`);
    await c.close();
  });
});

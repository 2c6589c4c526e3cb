import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../server/src/config/config.js";

// REDIS_CLUSTER_NODES is parsed once into seed nodes; a bad list names the variable.
describe("REDIS_CLUSTER_NODES", () => {
  it("is a single Redis when unset or empty", () => {
    expect(loadConfig({}).redisClusterNodes).toEqual([]);
    expect(loadConfig({ REDIS_CLUSTER_NODES: "" }).redisClusterNodes).toEqual([]);
  });

  it("parses host:port seeds, spaces and trailing commas tolerated", () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: "127.0.0.1:7001, redis-b.internal:7002," }).redisClusterNodes).toEqual([
      { host: "127.0.0.1", port: 7001 },
      { host: "redis-b.internal", port: 7002 },
    ]);
  });

  it.each(["127.0.0.1", "redis://127.0.0.1:7001", "127.0.0.1:0", "127.0.0.1:70000", ",", "a b:1"])(
    "refuses %j naming the variable",
    (value) => {
      let thrown: unknown;
      try {
        loadConfig({ REDIS_CLUSTER_NODES: value });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect(thrown instanceof ConfigError ? thrown.variable : "").toBe("REDIS_CLUSTER_NODES");
    },
  );
});

import type { TestProject } from "vitest/node";
import { startRedis } from "./redis-server.js";

/** One private redis-server for the whole run; every test namespaces its keys, none flushes. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await startRedis();
  project.provide("redisUrl", redis.url);
  return () => redis.stop();
}

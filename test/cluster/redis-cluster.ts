import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { startRedis, waitFor, type TestRedis } from "../support/redis-server.js";

/** A private 3-master Redis Cluster on loopback ports, without replicas, for one test file. */
export interface TestCluster {
  ports: number[];
  /** `127.0.0.1:P1,127.0.0.1:P2,...` as REDIS_CLUSTER_NODES takes it. */
  nodes: string;
  /**
   * Adds a master and moves `slots` slots to it from the others, keys included (`redis-cli
   * --cluster add-node` + `reshard`): a cluster scaled out under running clients. Returns its port.
   */
  addMaster(slots: number): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Why this machine cannot run a cluster test, or null when it can: a redis-server of version 7+
 * (sharded Pub/Sub, which the socket adapter uses on a cluster) built with cluster support, and redis-cli.
 */
export function clusterUnsupported(): string | null {
  const version = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  if (version.error || version.status !== 0) return "redis-server not found";
  const major = Number(/v=(\d+)/.exec(version.stdout)?.[1] ?? 0);
  if (major < 7) return `redis-server ${major} has no sharded Pub/Sub (7+ needed)`;
  const cli = spawnSync("redis-cli", ["--version"], { encoding: "utf8" });
  if (cli.error || cli.status !== 0) return "redis-cli not found";
  return null;
}

async function clusterState(port: number): Promise<string> {
  const c = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
  c.on("error", () => undefined);
  await c.connect();
  try {
    return await c.clusterInfo();
  } finally {
    await c.close();
  }
}

/**
 * Starts three `redis-server --cluster-enabled yes` nodes and joins them with
 * `redis-cli --cluster create` (16384 slots split three ways). Throws with redis-cli's output
 * (e.g. a server built without cluster support) if the cluster does not form.
 */
export async function startCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), "creditmeter-cluster-"));
  // startRedis picks the port and waits for the node to answer as itself (its pid), picking again
  // if another test file's process took the port first.
  const startNode = (): Promise<TestRedis> =>
    startRedis([
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      join(dir, `nodes-${randomUUID()}.conf`),
      "--cluster-node-timeout",
      "5000",
      "--dir",
      dir,
    ]);
  const procs: TestRedis[] = [];
  const ports: number[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((node) => node.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) procs.push(await startNode());
    ports.push(...procs.map((node) => node.port));
    for (const port of ports)
      await waitFor(async () => (await clusterState(port)).includes("cluster_state"), 10_000, `cluster node ${port}`);
    const create = spawnSync(
      "redis-cli",
      ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"],
      { encoding: "utf8", timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (const port of ports)
      await waitFor(
        async () => (await clusterState(port)).includes("cluster_state:ok"),
        15_000,
        `cluster state ok on ${port}`,
      );
  } catch (err) {
    await stop();
    throw err;
  }
  const cli = (args: string[]): string => {
    const res = spawnSync("redis-cli", args, { encoding: "utf8", timeout: 60_000 });
    if (res.status !== 0) throw new Error(`redis-cli ${args.join(" ")} failed: ${res.stdout}${res.stderr}`);
    return res.stdout;
  };
  const addMaster = async (slots: number): Promise<number> => {
    const node = await startNode();
    procs.push(node);
    const port = node.port;
    await waitFor(async () => (await clusterState(port)).includes("cluster_state"), 10_000, `cluster node ${port}`);
    const seed = `127.0.0.1:${ports[0] ?? 0}`;
    cli(["--cluster", "add-node", `127.0.0.1:${port}`, seed]);
    const id = cli(["-p", String(port), "cluster", "myid"]).trim();
    // Every node must know the new one before slots move to it.
    for (const p of ports)
      await waitFor(
        async () => cli(["-p", String(p), "cluster", "nodes"]).includes(id),
        15_000,
        `node ${p} to know ${id}`,
      );
    // The new node answers CLUSTERDOWN (and MIGRATE to it fails) until it has seen every slot
    // covered; redis-cli refuses to reshard until its own check passes.
    await waitFor(
      async () => (await clusterState(port)).includes("cluster_state:ok"),
      15_000,
      `cluster state ok on the new node ${port}`,
    );
    await waitFor(
      async () => spawnSync("redis-cli", ["--cluster", "check", seed], { encoding: "utf8" }).status === 0,
      15_000,
      "redis-cli --cluster check to pass",
    );
    cli([
      "--cluster",
      "reshard",
      seed,
      "--cluster-from",
      "all",
      "--cluster-to",
      id,
      "--cluster-slots",
      String(slots),
      "--cluster-yes",
    ]);
    ports.push(port);
    for (const p of ports)
      await waitFor(
        async () => (await clusterState(p)).includes("cluster_state:ok"),
        15_000,
        `cluster state ok on ${p}`,
      );
    return port;
  };
  return { ports, nodes: ports.map((p) => `127.0.0.1:${p}`).join(","), addMaster, stop };
}

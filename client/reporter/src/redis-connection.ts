import { createNodeRedisClient, type ConnectionOptions } from "bullmq";
import { createClient } from "redis";

/** The part of a node-redis v5 client (what `createClient()` returns) the reporter relies on. */
export interface NodeRedisClient {
  readonly isOpen: boolean;
  connect(): Promise<unknown>;
  duplicate(): unknown;
  close(): Promise<unknown>;
  xRevRange(
    key: string,
    end: string,
    start: string,
    options?: { COUNT?: number },
  ): Promise<ReadonlyArray<{ id: string }>>;
}

/** The part of an ioredis client (`new Redis(...)`) the reporter relies on; BullMQ takes it as is. */
export interface IoRedisClient {
  readonly status: string;
  duplicate(): unknown;
  xrevrange(key: string, end: string, start: string, count: "COUNT", n: number): Promise<Array<[id: string, fields: string[]]>>;
}

/**
 * Where the reporter talks to Redis: a node-redis or ioredis client the caller owns (node-redis:
 * connected or not, opened if needed; either is never closed by the reporter), or a URL for a
 * node-redis client the reporter creates, owns and closes.
 */
export type ReporterConnection = NodeRedisClient | IoRedisClient | { url: string };

/** The reporter's view of its connection: BullMQ's connection, the stream reader it needs, and how to let go. */
export interface ResolvedConnection {
  bull: ConnectionOptions;
  /** The id of the newest entry of a stream, or "0" when it is empty. */
  lastStreamId(key: string): Promise<string>;
  /** Closes the client if the reporter created it; leaves a caller's client open. */
  release(): Promise<void>;
}

function isIoRedis(connection: ReporterConnection): connection is IoRedisClient {
  return typeof (connection as Partial<IoRedisClient>).xrevrange === "function";
}

function isNodeRedis(connection: ReporterConnection): connection is NodeRedisClient {
  return typeof (connection as Partial<NodeRedisClient>).xRevRange === "function";
}

function fromNodeRedis(raw: NodeRedisClient, release: () => Promise<void>): ResolvedConnection {
  return {
    bull: createNodeRedisClient(raw),
    lastStreamId: async (key) => (await raw.xRevRange(key, "+", "-", { COUNT: 1 }))[0]?.id ?? "0",
    release,
  };
}

/** Wraps the given client, or creates one for a URL, for BullMQ. */
export function resolveConnection(connection: ReporterConnection, onError: (error: Error) => void): ResolvedConnection {
  if (isIoRedis(connection)) {
    return {
      // BullMQ uses an ioredis client directly, and duplicates it for the blocking reads of QueueEvents.
      bull: connection as unknown as ConnectionOptions,
      lastStreamId: async (key) => (await connection.xrevrange(key, "+", "-", "COUNT", 1))[0]?.[0] ?? "0",
      release: async () => undefined,
    };
  }
  if (isNodeRedis(connection)) return fromNodeRedis(connection, async () => undefined);
  const raw = createClient({ url: connection.url });
  // node-redis throws on an 'error' event nobody listens to; reconnecting is its own job.
  raw.on("error", onError);
  // The adapter opens the client at once, as ioredis would.
  return fromNodeRedis(raw, async () => {
    if (raw.isOpen) await raw.close();
  });
}

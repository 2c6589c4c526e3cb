import { createNodeRedisClient } from "bullmq";
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

/**
 * Where the reporter talks to Redis: a node-redis client the caller owns (connected or not:
 * if it is not open yet the reporter opens it; it is never closed by the reporter), or a URL
 * for a client the reporter creates, owns and closes.
 */
export type ReporterConnection = NodeRedisClient | { url: string };

/** The reporter's view of its connection: the raw client, BullMQ's adapter, and how to let go. */
export interface ResolvedConnection {
  raw: NodeRedisClient;
  bull: ReturnType<typeof createNodeRedisClient>;
  /** Closes the client if the reporter created it; leaves a caller's client open. */
  release(): Promise<void>;
}

function isClient(connection: ReporterConnection): connection is NodeRedisClient {
  return typeof (connection as Partial<NodeRedisClient>).duplicate === "function";
}

/** Wraps the given client, or creates one for a URL, for BullMQ's node-redis adapter. */
export function resolveConnection(connection: ReporterConnection, onError: (error: Error) => void): ResolvedConnection {
  if (isClient(connection)) {
    return { raw: connection, bull: createNodeRedisClient(connection), release: async () => undefined };
  }
  const raw = createClient({ url: connection.url });
  // node-redis throws on an 'error' event nobody listens to; reconnecting is its own job.
  raw.on("error", onError);
  // The adapter opens the client at once, as ioredis would.
  const bull = createNodeRedisClient(raw);
  return {
    raw,
    bull,
    release: async () => {
      if (raw.isOpen) await raw.close();
    },
  };
}

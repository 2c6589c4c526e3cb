import type { Namespace, Server, Socket } from "socket.io";
import type { AppRedis } from "../redis/redis-client.js";
import type { ClientToServerEvents, OpsServerToClientEvents, ServerToClientEvents } from "@creditmeter/shared";
import type { Config } from "../config/config.js";
import type { LedgerApi } from "../ledger/api.js";
import type { AuthVerifier, Principal } from "../auth/principal.js";
import type { Metrics } from "../ops/metrics.js";

/** What the server keeps on each socket once the handshake accepted it. */
export interface SocketData {
  principal: Principal;
  /** The account whose balance this socket follows: the user's own, or an ops socket's choice (null: none). */
  accountId: string | null;
  /** Session rooms this socket joined through `session:watch`. */
  watched: Set<string>;
}

/** Cross-node messages: none; the adapter carries room broadcasts only. */
export type InterServerEvents = Record<string, never>;

export type PanelServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type PanelSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
/** `/ops` takes no client events: ops pages only listen. */
export type OpsNamespace = Namespace<Record<string, never>, OpsServerToClientEvents, InterServerEvents, SocketData>;

/** The slice of a pino logger realtime uses. */
export interface RealtimeLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** Everything createRealtime is built from. */
export interface RealtimeDeps {
  /** Absent in a consumer-only process: it still broadcasts through the Redis adapter. */
  httpServer?: import("node:http").Server | undefined;
  config: Config;
  verifier: AuthVerifier;
  ledger: Pick<LedgerApi, "balance" | "session" | "dismissAlert" | "setBudget">;
  /**
   * Where a ledger change made over a socket (`session:budget`, `alert:dismiss`) is published: the server's FanOut,
   * so that it also reaches webhooks and /ops. Without it, this realtime's own socket publisher.
   */
  changes?: import("../ledger/api.js").Publisher;
  /** The webhook outbox: a `session:budget` or `alert:dismiss` that raised a webhook is acked once it is queued (webhooks/settle.ts). */
  outbox?: import("../webhooks/settle.js").WebhookSettler;
  /**
   * Tests only (Config.testKillAfterLedger): called right after a `session:budget`'s script with its
   * sessionId, and after a dismissal's with "dismiss:<accountId>".
   */
  afterLedger?: (id: string) => void;
  /** Duplicated twice for the adapter's pub/sub connections; also holds the per-IP connection budget. */
  redis: AppRedis;
  logger: RealtimeLogger;
  metrics?: Pick<Metrics, "sockets" | "pushSeconds">;
}

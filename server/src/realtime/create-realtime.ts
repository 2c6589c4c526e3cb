import { Server } from "socket.io";
import type { Publisher } from "../ledger/api.js";
import { connectRedisAdapter } from "./redis-adapter.js";
import { authenticate, connectionRateLimit } from "./handshake.js";
import { registerPanelHandlers } from "./panel-handlers.js";
import { accountRoom } from "./rooms.js";
import { createSocketPublisher } from "./socket-publisher.js";
import { limitEvents } from "./event-limit.js";
import { expireWithToken } from "./token-expiry.js";
import { dropWhenRevoked } from "./key-revocation.js";
import type { OpsNamespace, PanelServer, PanelSocket, RealtimeDeps } from "./types.js";

/** Live updates attached to an HTTP server. */
export interface Realtime {
  /** Add to the server's FanOut: every ledger outcome becomes room broadcasts. */
  publisher: Publisher;
  io: PanelServer;
  /** The `/ops` namespace (role ops only), for ops:charges / ops:stats / ops:alert emitters. */
  ops: OpsNamespace;
  /** Pushes what is still coalescing, closes every socket and the adapter's Redis connections. */
  close(): Promise<void>;
}

/**
 * Socket.IO on `httpServer` (CONTRACT §6): the panel namespace `/` and `/ops`, token checked at
 * the handshake, rooms per account and per account+session, cross-node through Redis.
 * Websocket clients need no affinity between nodes; polling clients do (docs/realtime.md).
 */
export async function createRealtime(deps: RealtimeDeps): Promise<Realtime> {
  const { config, logger, metrics } = deps;
  const redisAdapter = await connectRedisAdapter(deps.redis, config.keyPrefix, (err) =>
    logger.warn({ err: err.message }, "realtime redis error"),
  );
  const io: PanelServer = new Server(deps.httpServer, {
    // Both of socket.io-client's transports (CONTRACT §6 v1.1): default clients start with
    // long-polling and upgrade; panels behind proxies that block websockets stay on polling.
    transports: ["polling", "websocket"],
    maxHttpBufferSize: config.maxSocketPayloadBytes,
    adapter: redisAdapter.adapter,
    serveClient: false,
  });
  const publisher = createSocketPublisher(
    io,
    { windowMs: config.pushCoalesceMs, burst: config.pushBurst, balanceIntervalMs: config.balancePushIntervalMs },
    metrics,
  );
  const limitConnections = connectionRateLimit(
    deps.redis,
    config.keyPrefix,
    config.connectionsPerIpPerMinute,
    logger,
    config.trustProxy,
  );
  const ops: OpsNamespace = io.of("/ops");
  redisAdapter.echoes.addAdapter(io.of("/").adapter, "/");
  redisAdapter.echoes.addAdapter(ops.adapter, "/ops");

  const track = (namespace: string, socket: PanelSocket | Parameters<Parameters<OpsNamespace["on"]>[1]>[0]): void => {
    metrics?.sockets.inc({ namespace });
    socket.on("disconnect", () => metrics?.sockets.dec({ namespace }));
  };

  io.use(limitConnections);
  io.use(authenticate(deps.verifier, ["user", "ops"]));
  // Every socket: its own events are rate limited, and it ends when its token does (CONTRACT §6 v1.1).
  const guard = (socket: PanelSocket | Parameters<Parameters<OpsNamespace["on"]>[1]>[0]): void => {
    limitEvents(socket, {
      ...config.socketEvents,
      onFlood: (flooder, refused) =>
        logger.warn(
          { accountId: flooder.data.principal?.accountId, refused },
          "socket disconnected for flooding events",
        ),
    });
    expireWithToken(socket);
    // The key store caches a key for 1 s; checking as often keeps a revocation under 2 s end to end.
    dropWhenRevoked(socket, deps.verifier, 1000);
  };
  io.on("connection", (socket) => {
    track("/", socket);
    guard(socket);
    registerPanelHandlers(socket, {
      ledger: deps.ledger,
      maxWatchedSessions: config.maxWatchedSessions,
      changes: deps.changes ?? publisher,
      outbox: deps.outbox,
      afterLedger: deps.afterLedger,
      barrier: redisAdapter.barrier,
    });
    const { accountId } = socket.data;
    if (accountId === null) return;
    void (async () => {
      await socket.join(accountRoom(accountId));
      await redisAdapter.barrier();
      // The first balance is this socket's own: later ones come through the room.
      socket.emit("balance:update", await deps.ledger.balance(accountId));
    })().catch((err: unknown) => logger.warn({ err, accountId }, "first balance push failed"));
  });

  ops.use(limitConnections);
  ops.use(authenticate(deps.verifier, ["ops"], { scopedKeys: false }));
  ops.on("connection", (socket) => {
    track("/ops", socket);
    guard(socket);
  });

  return {
    publisher,
    io,
    ops,
    async close() {
      publisher.flush();
      // An unattached server (consumer-only process) has no engine for io.close() to stop.
      if (deps.httpServer) await io.close();
      else await Promise.allSettled([io.of("/"), ops].map(async (nsp) => nsp.adapter.close()));
      await redisAdapter.close();
    },
  };
}

import type { Balance, ServerToClientEvents, SessionUpdate } from "@creditmeter/shared";
import type { Publisher } from "../ledger/api.js";
import type { LedgerOutcome } from "../ledger/outcome.js";
import { Coalescer, type Sequenced } from "./coalescer.js";
import { accountRoom, sessionRoom } from "./rooms.js";
import { SlicedSender } from "./sliced-sender.js";
import type { PanelServer, RealtimeDeps } from "./types.js";

/** A Publisher that also empties its coalescing buffers on shutdown. */
export interface SocketPublisher extends Publisher {
  flush(): void;
}

/** How often snapshots may go out per room (docs/realtime.md, "Pushes and coalescing"). */
export interface PushLimits {
  /** Session rooms: up to `burst` pushes per `windowMs` at once, more merged. */
  windowMs: number;
  burst: number;
  /** Account rooms: a lone balance change at once, then at most one push per this many ms, always the latest. */
  balanceIntervalMs: number;
}

/**
 * Balance pushes per slice of the event loop (SlicedSender): 200 socket writes take a few ms, so a
 * session update never waits behind more than that; 50 rooms bound a slice whose rooms have no
 * members on this node (a consumer-only process), whose writes happen on the nodes that hear it.
 */
const BALANCE_SLICE = { writes: 200, rooms: 50, stallMs: 1000 };

/** socket.io-parser's PacketType.EVENT (Socket.IO protocol v5): what `emit` sends. */
const EVENT_PACKET = 2;

/**
 * What `io.to(room).emit(event, value)` does, returning the adapter's promise: the Redis adapter
 * writes to this node's sockets once the room's publish is answered, and the slicer waits for that
 * before the next slice (socket.io's emit drops the promise). The adapter's `broadcast` is its public
 * interface (socket.io-adapter), typed `void` on the in-memory base class it extends.
 */
function broadcast<E extends keyof ServerToClientEvents>(
  nsp: PanelServer["sockets"],
  room: string,
  event: E,
  ...args: Parameters<ServerToClientEvents[E]>
): Promise<void> {
  const written: unknown = nsp.adapter.broadcast(
    { type: EVENT_PACKET, data: [event, ...args] },
    { rooms: new Set([room]), except: new Set(), flags: {} },
  );
  return written instanceof Promise ? written.then(() => undefined) : Promise.resolve();
}

/**
 * Turns ledger outcomes into room broadcasts (CONTRACT §6). Balances and session snapshots are
 * coalesced per room; alerts, progress and denials are events, not states, and go out as they come.
 * Broadcasts go through the adapter, so a panel on any node receives them.
 */
export function createSocketPublisher(
  io: PanelServer,
  limit: PushLimits,
  metrics?: RealtimeDeps["metrics"],
): SocketPublisher {
  const observe = (occurredAtMs: number | null): void => {
    if (metrics && occurredAtMs !== null) metrics.pushSeconds.observe(Math.max(0, Date.now() - occurredAtMs) / 1000);
  };
  // One rate-limited coalescer per kind of snapshot. Session pushes are timed for the push metric;
  // balance pushes are not: they are held on purpose, and would report the interval as latency.
  const coalesced = <T extends Sequenced>(
    windowMs: number,
    burst: number,
    send: (room: string, value: T) => void,
    timed: boolean,
    jitterMs = 0,
  ): Coalescer<T> =>
    new Coalescer<T>(
      windowMs,
      (room, value, since) => {
        send(room, value);
        if (timed) observe(since);
      },
      burst,
      jitterMs,
    );
  // A balance goes to every open panel of the account: with 100 panels each push is 100 socket
  // writes, and pushing at the session rate (60/s per room) starved the session updates people
  // watch (docs/performance.md, "Big accounts"). One push per interval, the latest, is all a
  // person can read of a number that moves that fast.
  const panels = io.of("/");
  const balanceWrites = new SlicedSender<Balance>(
    { ...BALANCE_SLICE, size: (room) => panels.adapter.rooms.get(room)?.size ?? 0 },
    (room, balance) => broadcast(panels, room, "balance:update", balance),
  );
  const balances = coalesced<Balance>(
    limit.balanceIntervalMs,
    1,
    (room, balance) => balanceWrites.offer(room, balance),
    false,
    // Up to a quarter interval more on each held push: busy accounts' pushes drift out of step
    // instead of falling due together every interval (the slices then have less to spread).
    Math.floor(limit.balanceIntervalMs / 4),
  );
  const sessions = coalesced<SessionUpdate>(
    limit.windowMs,
    limit.burst,
    (room, update) => io.to(room).emit("session:update", update),
    true,
  );

  return {
    publish(outcome: LedgerOutcome): void {
      const account = accountRoom(outcome.accountId);
      // Session rooms first: the watched session's update is written before the account-wide fan-out.
      for (const update of outcome.sessions)
        sessions.push(sessionRoom(update.accountId, update.sessionId), update, outcome.occurredAtMs);
      if (outcome.balance && (outcome.changed || outcome.repush))
        balances.push(account, outcome.balance, outcome.occurredAtMs);
      if (outcome.progress)
        io.to(sessionRoom(outcome.accountId, outcome.progress.sessionId)).emit("stage:progress", outcome.progress);
      if (outcome.denied)
        io.to(sessionRoom(outcome.accountId, outcome.denied.sessionId)).emit("stage:denied", outcome.denied);
      if (outcome.alert) io.to(account).emit("balance:alert", outcome.alert);
    },
    flush(): void {
      balances.flush();
      balanceWrites.flush();
      sessions.flush();
    },
  };
}

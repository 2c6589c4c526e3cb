import { describe, expectTypeOf, it } from "vitest";
import type { Server } from "socket.io";
import type { Socket } from "socket.io-client";
import type {
  Balance,
  ClientToServerEvents,
  OpsServerToClientEvents,
  ServerToClientEvents,
  SessionUpdate,
  WatchAck,
} from "@creditmeter/shared";

// The event maps are the contract as types: a wrong payload must not compile (CONTRACT §6).
describe("socket event maps", () => {
  it("type the server's emits", () => {
    const io = {} as Server<ClientToServerEvents, ServerToClientEvents>;
    expectTypeOf(io.emit<"balance:update">).parameter(1).toEqualTypeOf<Balance>();
    // @ts-expect-error balance:update carries a Balance, not a number
    io.to("a:x").emit("balance:update", 5);
    // @ts-expect-error no such event in the contract
    io.to("a:x").emit("balance:changed", {} as Balance);
  });

  it("type the client's listeners and acks", () => {
    const socket = {} as Socket<ServerToClientEvents, ClientToServerEvents>;
    socket.on("session:update", (update) => {
      expectTypeOf(update).toEqualTypeOf<SessionUpdate>();
      expectTypeOf(update.last).toEqualTypeOf<SessionUpdate["last"]>();
    });
    socket.emit("session:watch", { sessionId: "s1" }, (ack) => {
      expectTypeOf(ack).toEqualTypeOf<WatchAck>();
    });
    // @ts-expect-error session:watch needs a sessionId
    socket.emit("session:watch", { accountId: "a" }, () => undefined);
    // @ts-expect-error alert:dismiss takes a known level
    socket.emit("alert:dismiss", { level: "panic" }, () => undefined);
  });

  it("type the /ops stream", () => {
    const ops = {} as Socket<OpsServerToClientEvents>;
    ops.on("ops:charges", (batch) => expectTypeOf(batch[0]?.amount).toEqualTypeOf<number | undefined>());
  });
});

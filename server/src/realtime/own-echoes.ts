import type { AppRedis } from "../redis/redis-client.js";

/** A message listener as node-redis calls it in buffer mode. */
type BufferListener = (message: Buffer, channel: Buffer) => void;

/**
 * This node's own broadcasts, recognised when sharded Pub/Sub hands them back. The sharded Redis
 * adapter publishes every room broadcast to the room's channel and this node, subscribed to every
 * room it has members in, hears each one back: the adapter parsed it (JSON) only to find its own
 * uid and drop it, ~3 % of the server's CPU at 1,000 events/s (docs/performance.md, "Push CPU per
 * event"). The adapter's JSON messages end with `"uid":"<uid>","nsp":"<nsp>"}` (socket.io-adapter's
 * ClusterAdapter sets both last), so a message ending with this node's tail is dropped unparsed.
 * Anything else, a binary (msgpack) message included, goes to the adapter as before, which still
 * drops its own: a tail that no longer matches costs the parse again, never a message.
 */
export class OwnEchoes {
  private tails: Buffer[] = [];
  /** Own broadcasts dropped before parsing (tests and the bench read it). */
  dropped = 0;

  /** Recognises the messages of the adapter of namespace `nsp` (its `uid`, when it has one). */
  addAdapter(adapter: object, nsp: string): void {
    // ClusterAdapter's uid is protected in its typings: read, never written, and only compared.
    const uid: unknown = Reflect.get(adapter, "uid");
    if (typeof uid !== "string" || uid === "") return;
    this.tails.push(Buffer.from(`"uid":${JSON.stringify(uid)},"nsp":${JSON.stringify(nsp)}}`));
  }

  /** True when `message` is one of this node's own broadcasts. */
  isOwn(message: Buffer): boolean {
    for (const tail of this.tails)
      if (message.length > tail.length && tail.compare(message, message.length - tail.length) === 0) return true;
    return false;
  }

  /**
   * `sub` as the adapter sees it: its sharded subscriptions in buffer mode get a listener that
   * drops own broadcasts first. Everything else is `sub` itself (bound, for node-redis's private fields).
   */
  subscriber(sub: AppRedis): AppRedis {
    const filter =
      (listener: BufferListener): BufferListener =>
      (message, channel) => {
        if (Buffer.isBuffer(message) && this.isOwn(message)) {
          this.dropped += 1;
          return;
        }
        listener(message, channel);
      };
    return new Proxy(sub, {
      get(target, prop): unknown {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop !== "sSubscribe") return value.bind(target);
        return (channels: string | string[], listener: BufferListener, bufferMode?: boolean): unknown =>
          Reflect.apply(value, target, [channels, bufferMode === true ? filter(listener) : listener, bufferMode]);
      },
    });
  }
}

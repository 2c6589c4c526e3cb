import { createServer, connect, type Server, type Socket } from "node:net";

/** A loopback TCP proxy handing each new connection to the next target in turn. */
export interface RoundRobinProxy {
  port: number;
  close(): Promise<void>;
}

/** Starts the proxy; a dead target's connection just fails, and the client's retry takes the next one. */
export async function roundRobinProxy(targets: number[]): Promise<RoundRobinProxy> {
  let next = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const port = targets[next % targets.length] ?? 0;
    next += 1;
    const upstream = connect(port, "127.0.0.1");
    for (const s of [client, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => undefined);
    }
    client.pipe(upstream).on("error", () => undefined);
    upstream.pipe(client).on("error", () => undefined);
    upstream.on("close", () => client.destroy());
    client.on("close", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  return {
    port: typeof addr === "object" && addr ? addr.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

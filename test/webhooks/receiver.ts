import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One request a test receiver got, with the raw body exactly as sent (what the signature covers). */
export interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the receiver answers its n-th request (0-based): a status, after an optional delay. */
export type Answer = (n: number) => { status: number; delayMs?: number } | "hang";

/** A real HTTP receiver on loopback that records every request. */
export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 (a free port); `answer` decides each reply (default 200). */
export async function startReceiver(answer: Answer = () => ({ status: 200 }), port = 0): Promise<Receiver> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const n = received.length;
      received.push({ at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const a = answer(n);
      if (a === "hang") return; // never answers: the sender's timeout (or death) ends it
      setTimeout(() => res.writeHead(a.status, { "content-type": "text/plain" }).end("ok"), a.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/hook`,
    port: bound,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// The nginx configuration docs/realtime.md documents, run for real: two processes behind nginx
// with `hash $remote_addr consistent`, a polling-only client through it (polling needs each of a
// session's requests to reach the process that holds it) and a websocket-only client.
// Skipped, saying why, where /usr/sbin/nginx is not installed (apt-get install nginx-light).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionUpdate } from "@creditmeter/shared";
import { waitFor } from "../support/redis-server.js";
import { completed, cycleOf, deployment, startNode, type Deployment } from "../realtime/harness.js";

const NGINX = "/usr/sbin/nginx";
const hasNginx = existsSync(NGINX);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** The documented config (docs/realtime.md "Behind nginx"), with this test's ports and a private prefix. */
function nginxConf(prefix: string, listen: number, upstreams: number[]): string {
  return `
daemon off;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream creditmeter {
    hash $remote_addr consistent;
${upstreams.map((port) => `    server 127.0.0.1:${port};`).join("\n")}
  }
  server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass http://creditmeter;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 75s;
    }
  }
}
`;
}

describe.skipIf(!hasNginx)("polling and websocket clients through nginx in front of two processes", () => {
  let d: Deployment;
  let a: Awaited<ReturnType<typeof startNode>>;
  let b: Awaited<ReturnType<typeof startNode>>;
  let nginx: ChildProcess;
  let prefix: string;
  let url: string;
  const acct = "acct-nginx";

  beforeAll(async () => {
    d = await deployment({ CREDITMETER_TRUST_PROXY: "loopback" });
    a = await startNode(d);
    b = await startNode(d, { CREDITMETER_CONSUMER: "false" });
    await a.ledger.putAccount(acct, { plan: "free" });
    await a.ledger.startCycle(acct, cycleOf("c1", 5000));
    prefix = mkdtempSync(join(tmpdir(), "creditmeter-nginx-"));
    const port = await freePort();
    writeFileSync(join(prefix, "nginx.conf"), nginxConf(prefix, port, [a.port, b.port]));
    nginx = spawn(NGINX, ["-p", prefix, "-c", join(prefix, "nginx.conf")], { stdio: ["ignore", "ignore", "pipe"] });
    url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/healthz`).catch(() => null))?.ok === true, 10_000, "nginx answering");
  });
  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once("exit", resolve));
      nginx.kill("SIGQUIT");
      await exited;
    }
    await a?.close();
    await b?.close();
    await d?.close();
    if (prefix) rmSync(prefix, { recursive: true, force: true });
  });

  it.each([["polling"], ["websocket"]] as const)("a %s-only client connects through nginx and receives a charge", async (transport) => {
    const socket = io(url, { auth: { token: await d.token(acct) }, transports: [transport], reconnection: false, forceNew: true });
    const sessions: SessionUpdate[] = [];
    socket.on("session:update", (u: SessionUpdate) => sessions.push(u));
    try {
      await waitFor(() => socket.connected, 10_000, `${transport} connected through nginx`);
      await socket.timeout(5000).emitWithAck("session:watch", { sessionId: `nginx-${transport}` });
      await d.enqueue(Array.from({ length: 20 }, () => completed(acct, `nginx-${transport}`, "script")));
      await waitFor(() => sessions.at(-1)?.used === 20, 15_000, "20 credits through nginx");
      expect(socket.io.engine.transport.name).toBe(transport);
    } finally {
      socket.disconnect();
    }
  });
});

if (!hasNginx) {
  describe("nginx affinity", () => {
    it.skip(`skipped: ${NGINX} is not installed (apt-get install nginx-light)`, () => undefined);
  });
}

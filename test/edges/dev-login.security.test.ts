// The development login mints ops tokens: it must answer this machine only, whatever NODE_ENV
// says (CONTRACT §9 v1.1), and /dev/demo must not fork without bound (issue 12 "Safe defaults").
import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployment, startNode, type Deployment } from "../realtime/harness.js";

/** An address of this machine that is not loopback, so a request to it arrives from it. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const nic of list ?? []) if (nic.family === "IPv4" && !nic.internal) return nic.address;
  }
  return undefined;
}

const external = externalAddress();

describe.each(["development", "test"])("dev login with NODE_ENV=%s and HOST=0.0.0.0", (nodeEnv) => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  beforeAll(async () => {
    d = await deployment();
    node = await startNode(d, { NODE_ENV: nodeEnv, HOST: "0.0.0.0" });
  });
  afterAll(async () => {
    await node.close();
    await d.close();
  });

  const login = (base: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}/dev/login`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ role: "ops" }),
    });

  it("mints a token for a request from the loopback address", async () => {
    const res = await login(`http://127.0.0.1:${node.port}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ token: expect.any(String) });
  });

  it.skipIf(external === undefined)(
    "is a 404 for a request from another address (no non-loopback interface here: skipped)",
    async () => {
      const base = `http://${external}:${node.port}`;
      const res = await login(base);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
      for (const [method, path] of [
        ["GET", "/dev"],
        ["POST", "/dev/demo"],
      ] as const) {
        expect((await fetch(`${base}${path}`, { method })).status).toBe(404);
      }
    },
  );

  it("is a 404 when a same-host proxy forwards a request from another address", async () => {
    const base = `http://127.0.0.1:${node.port}`;
    const proxied: Record<string, string>[] = [
      { "x-forwarded-for": "203.0.113.9" },
      { forwarded: 'for="[2001:db8::1]:4711"' },
      { "x-real-ip": "198.51.100.7" },
    ];
    for (const headers of proxied) {
      const res = await login(base, headers);
      expect(res.status).toBe(404);
    }
    expect((await login(base, { "x-forwarded-for": "127.0.0.1, ::1" })).status).toBe(200);
  });
});

// Behind a load balancer every client arrives from the balancer's address: CREDITMETER_TRUST_PROXY
// (CONTRACT §8 v1.1) decides which X-Forwarded-For hop the per-IP limits see, on REST and on
// the Socket.IO handshake alike; without it a forged header buys nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../server/src/config/config.js";
import { deployment, handshakeResult, startNode, type Deployment } from "../realtime/harness.js";

const LIMITS = { CREDITMETER_REQUESTS_PER_IP_PER_MINUTE: "2", CREDITMETER_CONNECTIONS_PER_IP_PER_MINUTE: "2" };

function pricing(base: string, forwardedFor: string): Promise<number> {
  return fetch(`${base}/v1/pricing`, { headers: { "x-forwarded-for": forwardedFor } }).then((res) => res.status);
}

function handshake(base: string, forwardedFor: string, token: string): Promise<string> {
  return handshakeResult(base, { token }, { "x-forwarded-for": forwardedFor });
}

describe("CREDITMETER_TRUST_PROXY", () => {
  let d: Deployment;
  let trusted: Awaited<ReturnType<typeof startNode>>;
  let untrusted: Awaited<ReturnType<typeof startNode>>;
  beforeAll(async () => {
    d = await deployment();
    trusted = await startNode(d, { ...LIMITS, CREDITMETER_TRUST_PROXY: "loopback", CREDITMETER_KEY_PREFIX: `${d.prefix}-a` });
    untrusted = await startNode(d, { ...LIMITS, CREDITMETER_KEY_PREFIX: `${d.prefix}-b` });
  });
  afterAll(async () => {
    await trusted.close();
    await untrusted.close();
    await d.close();
  });

  it("gives each forwarded client its own REST budget when the proxy is trusted", async () => {
    expect([await pricing(trusted.url, "203.0.113.1"), await pricing(trusted.url, "203.0.113.1"), await pricing(trusted.url, "203.0.113.1")]).toEqual([200, 200, 429]);
    expect(await pricing(trusted.url, "203.0.113.2")).toBe(200);
  });

  it("ignores X-Forwarded-For when no proxy is trusted, so a forged header escapes nothing", async () => {
    const statuses = [];
    for (const forged of ["198.51.100.1", "198.51.100.2", "198.51.100.3"]) statuses.push(await pricing(untrusted.url, forged));
    expect(statuses).toEqual([200, 200, 429]);
  });

  it("counts Socket.IO handshakes per forwarded client when the proxy is trusted", async () => {
    const token = await d.token("acct-tp");
    const a = [];
    for (let i = 0; i < 3; i += 1) a.push(await handshake(trusted.url, "203.0.113.7", token));
    expect(a).toEqual(["connected", "connected", "rate_limited"]);
    expect(await handshake(trusted.url, "203.0.113.8", token)).toBe("connected");
  });

  it("refuses a value that is not one of express's, naming the variable", () => {
    expect(() => loadConfig({ CREDITMETER_TRUST_PROXY: "not-an-address" })).toThrow(/CREDITMETER_TRUST_PROXY/);
    expect(loadConfig({ CREDITMETER_TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(loadConfig({ CREDITMETER_TRUST_PROXY: "loopback, 10.0.0.0/8" }).trustProxy).toEqual(["loopback", "10.0.0.0/8"]);
    expect(loadConfig({}).trustProxy).toBe(false);
  });
});

import { SignJWT, base64url, type JWTPayload } from "jose";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRET, deployment, startNode, type Deployment } from "../realtime/harness.js";

// Every forged token against every door at once, on a real server: the REST ops API, account
// reads, POST /v1/events, /metrics, the panel namespace and the /ops namespace. The unit tests
// (server/src/auth/verifier.test.ts) prove the verifier; this proves each door uses it.
const now = () => Math.floor(Date.now() / 1000);
const part = (value: object) => base64url.encode(JSON.stringify(value));
const sign = (payload: JWTPayload, secret = SECRET) => new SignJWT(payload).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));

async function forgeries(): Promise<Record<string, string>> {
  const [header, , signature] = (await sign({ sub: "victim", role: "user", exp: now() + 600 })).split(".");
  return {
    "alg none": `${part({ alg: "none", typ: "JWT" })}.${part({ sub: "victim", role: "ops", exp: now() + 600 })}.`,
    "wrong secret": await sign({ sub: "victim", role: "ops", exp: now() + 600 }, "not-the-secret-0123456789"),
    expired: await sign({ sub: "victim", role: "ops", exp: now() - 60 }),
    "tampered role": `${header}.${part({ sub: "victim", role: "ops", exp: now() + 600 })}.${signature}`,
    "tampered sub": `${header}.${part({ sub: "other", role: "user", exp: now() + 600 })}.${signature}`,
  };
}

describe("token attacks on every door", () => {
  let d: Deployment;
  let node: Awaited<ReturnType<typeof startNode>>;
  let forged: Record<string, string>;

  const doors = (token: string) => {
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    return {
      "PUT /v1/accounts/:id (ops API)": () => fetch(`${node.url}/v1/accounts/victim`, { method: "PUT", headers, body: JSON.stringify({ plan: "pro" }) }),
      "POST /v1/accounts/:id/packs (ops API)": () => fetch(`${node.url}/v1/accounts/victim/packs`, { method: "POST", headers, body: JSON.stringify({ packId: "free-money", credits: 1_000_000 }) }),
      "GET /v1/accounts/other/balance": () => fetch(`${node.url}/v1/accounts/other/balance`, { headers }),
      "GET /metrics": () => fetch(`${node.url}/metrics`, { headers }),
    };
  };
  const handshake = (namespace: string, token: string) =>
    new Promise<string>((resolve) => {
      const socket = io(`${node.url}${namespace}`, { transports: ["websocket"], auth: { token }, reconnection: false, forceNew: true });
      socket.on("connect", () => (socket.disconnect(), resolve("connected")));
      socket.on("connect_error", (err) => (socket.disconnect(), resolve(err.message)));
    });

  beforeAll(async () => {
    d = await deployment();
    node = await startNode(d);
    forged = await forgeries();
    const ops = await d.token("ops", "ops");
    for (const id of ["victim", "other"]) {
      const res = await fetch(`${node.url}/v1/accounts/${id}`, { method: "PUT", headers: { authorization: `Bearer ${ops}`, "content-type": "application/json" }, body: JSON.stringify({ plan: "free" }) });
      expect(res.status).toBe(200);
    }
  });
  afterAll(async () => {
    await node?.close();
    await d?.close();
  });

  it("refuses each forged token at every REST door with 401 unauthorized", async () => {
    for (const [attack, token] of Object.entries(forged)) {
      for (const [door, call] of Object.entries(doors(token))) {
        const res = await call();
        expect(res.status, `${attack} on ${door}`).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
      }
    }
  });

  it("refuses each forged token on the panel and /ops namespaces with `unauthorized`", async () => {
    for (const [attack, token] of Object.entries(forged)) {
      expect(await handshake("/", token), `${attack} on /`).toBe("unauthorized");
      expect(await handshake("/ops", token), `${attack} on /ops`).toBe("unauthorized");
    }
  });

  it("a genuine user token is forbidden on the ops API, /metrics, another account and /ops", async () => {
    const user = await d.token("victim", "user");
    for (const [door, call] of Object.entries(doors(user))) {
      const res = await call();
      expect(res.status, door).toBe(403);
    }
    expect(await handshake("/ops", user)).toBe("forbidden");
    expect(await handshake("/", user)).toBe("connected");
    // Nothing any of the attempts did reached the ledger: the account is as created.
    const ops = await d.token("ops", "ops");
    const bal = (await (await fetch(`${node.url}/v1/accounts/victim/balance`, { headers: { authorization: `Bearer ${ops}` } })).json()) as { plan: string; available: number; buckets: unknown[] };
    expect(bal).toMatchObject({ plan: "free", available: 0, buckets: [] });
  });
});

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mintToken } from "./mint-token.js";
import { createAuthVerifier } from "./verifier.js";
import type { AuthVerifier } from "./principal.js";

const SECRET = "test-secret-0123456789abcdef";
const now = () => Math.floor(Date.now() / 1000);
let server: Server;
let verifier: AuthVerifier;
let trustedKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  trustedKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  server = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  verifier = createAuthVerifier({
    authSecret: SECRET,
    jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    production: false,
  });
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function rs256(key: CryptoKey, kid: string): Promise<string> {
  return new SignJWT({ sub: "acme", role: "ops", exp: now() + 60 }).setProtectedHeader({ alg: "RS256", kid }).sign(key);
}

describe("createAuthVerifier with a JWKS", () => {
  it("accepts RS256 tokens signed by a key of the set", async () => {
    await expect(verifier.verify(await rs256(trustedKey, "k1"))).resolves.toEqual({
      accountId: "acme",
      role: "ops",
      expiresAt: expect.any(Number),
    });
  });

  it("rejects RS256 tokens signed by a key outside the set", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    await expect(verifier.verify(await rs256(privateKey, "k1"))).rejects.toMatchObject({ code: "unauthorized" });
    await expect(verifier.verify(await rs256(privateKey, "k2"))).rejects.toMatchObject({ code: "unauthorized" });
  });

  it("still accepts HS256 tokens signed with the secret", async () => {
    const token = await mintToken(SECRET, { sub: "acme", role: "worker", ttlSeconds: 60 });
    await expect(verifier.verify(token)).resolves.toEqual({
      accountId: "acme",
      role: "worker",
      expiresAt: expect.any(Number),
    });
  });
});

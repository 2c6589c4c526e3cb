import { SignJWT, base64url, generateKeyPair, type JWTPayload } from "jose";
import { describe, expect, it } from "vitest";
import { CreditmeterError } from "@creditmeter/shared";
import { DEV_AUTH_SECRET } from "../config/config.js";
import { mintToken } from "./mint-token.js";
import { createAuthVerifier } from "./verifier.js";

const SECRET = "test-secret-0123456789abcdef";
const verifier = createAuthVerifier({ authSecret: SECRET, jwksUrl: undefined, production: false });
const now = () => Math.floor(Date.now() / 1000);

/** Signs any payload with any HMAC algorithm and secret: the attacker's toolkit. */
async function sign(payload: JWTPayload, opts: { secret?: string; alg?: string } = {}): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: opts.alg ?? "HS256" })
    .sign(new TextEncoder().encode(opts.secret ?? SECRET));
}

function encodePart(value: object): string {
  return base64url.encode(JSON.stringify(value));
}

async function rejection(token: string): Promise<CreditmeterError> {
  const err: unknown = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CreditmeterError)) throw new Error(`expected a CreditmeterError, got ${String(err)}`);
  expect(err.code).toBe("unauthorized");
  return err;
}

describe("createAuthVerifier (HS256)", () => {
  it("accepts a token minted with the secret and returns its principal", async () => {
    const before = Date.now();
    const token = await mintToken(SECRET, { sub: "acme", role: "user", ttlSeconds: 60 });
    const principal = await verifier.verify(token);
    expect(principal).toEqual({ accountId: "acme", role: "user", expiresAt: expect.any(Number) });
    // exp is whole seconds: the expiry the socket guard arms is the token's, within a second.
    expect(Math.abs((principal.expiresAt ?? 0) - (before + 60_000))).toBeLessThan(2000);
  });

  it("rejects alg none (unsigned token)", async () => {
    const token = `${encodePart({ alg: "none", typ: "JWT" })}.${encodePart({ sub: "acme", role: "ops", exp: now() + 60 })}.`;
    expect((await rejection(token)).message).toMatch(/algorithm none/);
  });

  it("rejects a token signed with another secret", async () => {
    const token = await sign({ sub: "acme", role: "ops", exp: now() + 60 }, { secret: "another-secret-0123456789" });
    expect((await rejection(token)).message).toMatch(/bad signature/);
  });

  it("rejects an expired token", async () => {
    const token = await sign({ sub: "acme", role: "user", exp: now() - 60 });
    expect((await rejection(token)).message).toMatch(/expired/);
  });

  it("rejects a payload tampered to another role or sub under the original signature", async () => {
    const [header, , signature] = (await mintToken(SECRET, { sub: "acme", role: "user", ttlSeconds: 60 })).split(".");
    const asOps = `${header}.${encodePart({ sub: "acme", role: "ops", exp: now() + 60 })}.${signature}`;
    const asOther = `${header}.${encodePart({ sub: "globex", role: "user", exp: now() + 60 })}.${signature}`;
    expect((await rejection(asOps)).message).toMatch(/bad signature/);
    expect((await rejection(asOther)).message).toMatch(/bad signature/);
  });

  it("rejects missing or invalid claims, naming the claim", async () => {
    expect((await rejection(await sign({ sub: "acme", exp: now() + 60 }))).message).toMatch(/claim role/);
    expect((await rejection(await sign({ sub: "acme", role: "admin", exp: now() + 60 }))).message).toMatch(
      /claim role/,
    );
    expect((await rejection(await sign({ sub: "ac:me", role: "user", exp: now() + 60 }))).message).toMatch(/claim sub/);
    expect((await rejection(await sign({ role: "user", exp: now() + 60 }))).message).toMatch(/sub/);
    expect((await rejection(await sign({ sub: "acme", role: "user" }))).message).toMatch(/exp/);
  });

  it("rejects HS512 even with the right secret", async () => {
    const token = await sign({ sub: "acme", role: "ops", exp: now() + 60 }, { alg: "HS512" });
    expect((await rejection(token)).message).toMatch(/algorithm HS512 not accepted/);
  });

  it("rejects RS256 when no JWKS is configured", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const token = await new SignJWT({ sub: "acme", role: "ops", exp: now() + 60 })
      .setProtectedHeader({ alg: "RS256" })
      .sign(privateKey);
    expect((await rejection(token)).message).toMatch(/algorithm RS256 not accepted/);
  });

  it("rejects garbage, empty and oversized tokens", async () => {
    await rejection("not-a-jwt");
    await rejection("");
    await rejection(`${encodePart({ alg: "HS256" })}.${"a".repeat(9000)}.x`);
  });

  it("refuses the public development secret in production", async () => {
    const prod = createAuthVerifier({ authSecret: DEV_AUTH_SECRET, jwksUrl: undefined, production: true });
    const token = await mintToken(DEV_AUTH_SECRET, { sub: "acme", role: "ops", ttlSeconds: 60 });
    await expect(prod.verify(token)).rejects.toMatchObject({ code: "unauthorized" });
    const dev = createAuthVerifier({ authSecret: DEV_AUTH_SECRET, jwksUrl: undefined, production: false });
    await expect(dev.verify(token)).resolves.toEqual({ accountId: "acme", role: "ops", expiresAt: expect.any(Number) });
  });
});

describe("mintToken", () => {
  it("refuses a sub that is not an account id and a non-positive ttl", async () => {
    await expect(mintToken(SECRET, { sub: "a:b", role: "user", ttlSeconds: 60 })).rejects.toThrow(/sub/);
    await expect(mintToken(SECRET, { sub: "acme", role: "user", ttlSeconds: 0 })).rejects.toThrow(/ttlSeconds/);
  });
});

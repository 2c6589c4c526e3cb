import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** A new webhook secret: 32 random bytes, prefixed so that a leaked one is recognisable. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64url")}`;
}

/** Hex HMAC-SHA256 of `"<t>.<raw body>"` with the secret (CONTRACT §7). */
export function signaturePart(secret: string, t: number, body: string): string {
  return createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
}

/**
 * The `Creditmeter-Signature` value: `t=<unix seconds>,v1=<hex>`. While a rotated secret is in
 * its grace period the old secret signs too, as a second `v1=` (Stripe does the same): a
 * receiver accepts the delivery when any v1 matches its secret.
 */
export function signatureHeader(secrets: string[], t: number, body: string): string {
  return [`t=${t}`, ...secrets.map((s) => `v1=${signaturePart(s, t, body)}`)].join(",");
}

/**
 * The receiver's check, as docs/webhooks.md describes it: some v1 equals the HMAC of `"<t>.<body>"`
 * (compared in constant time) and t is within `toleranceSeconds` of now (replays are refused).
 */
export function verifySignature(secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const parts = header.split(",").map((p) => p.trim());
  const t = Number(parts.find((p) => p.startsWith("t="))?.slice(2));
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signaturePart(secret, t, body), "hex");
  return parts
    .filter((p) => p.startsWith("v1="))
    .some((p) => {
      const given = Buffer.from(p.slice(3), "hex");
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

import { SignJWT } from "jose";
import { z } from "zod";
import { AccountId, Role, fromZodError } from "@creditmeter/shared";

const MintOptions = z.strictObject({
  sub: AccountId,
  role: Role,
  ttlSeconds: z.number().int().min(1).max(366 * 24 * 3600),
  issuer: z.string().min(1).optional(),
  audience: z.string().min(1).optional(),
});
export type MintOptions = z.infer<typeof MintOptions>;

/**
 * Signs an HS256 bearer token with `sub`, `role`, `iat` and `exp`.
 * For tests, the development login and the demo only: in production tokens come from the
 * identity provider that holds CREDITMETER_AUTH_SECRET (or the JWKS keys).
 * @example const token = await mintToken(config.authSecret, { sub: "acme", role: "user", ttlSeconds: 3600 });
 */
export async function mintToken(secret: string, options: MintOptions): Promise<string> {
  const parsed = MintOptions.safeParse(options);
  if (!parsed.success) throw fromZodError("invalid_input", parsed.error);
  const { sub, role, ttlSeconds, issuer, audience } = parsed.data;
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ role }).setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(sub).setIssuedAt(now).setExpirationTime(now + ttlSeconds);
  if (issuer !== undefined) jwt.setIssuer(issuer);
  if (audience !== undefined) jwt.setAudience(audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

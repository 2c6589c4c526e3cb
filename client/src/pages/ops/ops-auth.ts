import { z } from "zod";
import { TOKEN_KEY, readClaims } from "../page-auth.js";

const DevLogin = z.object({ token: z.string().min(1) });

/**
 * The /ops page's ops token: the one in sessionStorage when it is an ops token (CONTRACT §9);
 * else, outside production, one from the development login (kept in memory only, so the
 * panel's user token in the same tab stays as it was).
 */
export async function resolveOpsToken(): Promise<string> {
  const stored = sessionStorage.getItem(TOKEN_KEY);
  const claims = stored ? readClaims(stored) : null;
  // An expired stored token is no use after `auth:expired`: fall through to the dev login.
  if (stored && claims?.role === "ops" && (claims.exp === undefined || claims.exp * 1000 > Date.now())) return stored;
  const res = await fetch("/dev/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ role: "ops" }),
  });
  if (!res.ok) {
    throw new Error(
      `The ops view needs an ops token: set sessionStorage "${TOKEN_KEY}" to one (no development login here, HTTP ${res.status})`,
    );
  }
  return DevLogin.parse(await res.json()).token;
}

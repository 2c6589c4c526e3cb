import { z } from "zod";

/** Where embedders (and tests) put the bearer token (CONTRACT §9). */
export const TOKEN_KEY = "creditmeter.token";

const DevLogin = z.object({ token: z.string().min(1) });
const Claims = z.object({ sub: z.string().min(1), role: z.string().optional(), exp: z.number().optional() });

/** The page's signed-in user: the bearer token and the account it is for. */
export interface PageAuth {
  token: string;
  accountId: string;
  /** True when the token came from the development login (the server is not in production). */
  dev: boolean;
}

/** Reads a JWT's claims without verifying it: the server verifies; the page only needs `sub`. */
export function readClaims(token: string): z.infer<typeof Claims> {
  const payload = token.split(".")[1];
  if (!payload) throw new Error("the token is not a JWT");
  const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "="));
  return Claims.parse(JSON.parse(json));
}

/**
 * The token from sessionStorage, or else from the development login (which the server offers
 * outside production only). A dev token is kept in sessionStorage so a reload keeps the account.
 */
export async function resolveAuth(): Promise<PageAuth> {
  const stored = sessionStorage.getItem(TOKEN_KEY);
  if (stored) return { token: stored, accountId: readClaims(stored).sub, dev: false };
  const res = await fetch("/dev/login", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
  if (!res.ok) {
    throw new Error(`No token: set sessionStorage "${TOKEN_KEY}" (the development login is off on this server, HTTP ${res.status})`);
  }
  const { token } = DevLogin.parse(await res.json());
  sessionStorage.setItem(TOKEN_KEY, token);
  return { token, accountId: readClaims(token).sub, dev: true };
}

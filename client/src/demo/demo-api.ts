import { z } from "zod";
import { ErrorBody } from "@creditmeter/shared";

// The two REST calls the demo driver makes itself (everything else goes through the reporter).

async function call(url: string, init: RequestInit): Promise<unknown> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const json: unknown = await res.json().catch(() => null);
  if (res.ok) return json;
  const error = ErrorBody.safeParse(json);
  throw new Error(error.success ? error.data.error.message : `${init.method ?? "GET"} ${url}: HTTP ${res.status}`);
}

/** A user token for `accountId` from a development server's dev login (loopback only, never in production). */
export async function devLoginToken(serverUrl: string, accountId: string): Promise<string> {
  const body = await call(`${serverUrl}/dev/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ accountId }),
  });
  return z.object({ token: z.string().min(1) }).parse(body).token;
}

/** Sets the session's budget as the person would from the panel (PUT …/budget, CONTRACT §10). */
export async function setSessionBudget(
  serverUrl: string,
  token: string,
  accountId: string,
  sessionId: string,
  credits: number | null,
): Promise<void> {
  await call(
    `${serverUrl}/v1/accounts/${encodeURIComponent(accountId)}/sessions/${encodeURIComponent(sessionId)}/budget`,
    {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ credits }),
    },
  );
}

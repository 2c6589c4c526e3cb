// A small fetch wrapper for tests that talk to a whole server (in-process or spawned).

export interface Answer {
  status: number;
  body: unknown;
}

/** One JSON request; the answer's body is parsed when it is JSON. */
export async function request(base: string, method: string, path: string, token?: string, json?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${base}${path}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await res.text();
  const isJson = res.headers.get("content-type")?.includes("application/json") ?? false;
  return { status: res.status, body: isJson ? JSON.parse(text) : text };
}

/** Polls `check` until it returns a value or the deadline passes (then throws with `what`). */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

import { z } from "zod";
import { ErrorBody, LedgerPage, Usage, type UsageQuery } from "@creditmeter/shared";

/** A REST error answer, carrying the server's `code`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Typed reads of the REST API (CONTRACT §4), every answer parsed before use. */
export class ApiClient {
  constructor(
    private readonly token: string,
    private readonly base = "",
  ) {}

  /** GET /v1/accounts/:id/usage */
  usage(accountId: string, query: Partial<UsageQuery>): Promise<Usage> {
    const params = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => typeof e[1] === "string"));
    return this.get(`/v1/accounts/${encodeURIComponent(accountId)}/usage?${params}`, Usage);
  }

  /** GET /v1/accounts/:id/ledger, newest first. */
  ledger(accountId: string, limit: number, cursor: string | null): Promise<LedgerPage> {
    const params = new URLSearchParams({ limit: String(limit) });
    if (cursor) params.set("cursor", cursor);
    return this.get(`/v1/accounts/${encodeURIComponent(accountId)}/ledger?${params}`, LedgerPage);
  }

  /** POST /dev/demo: starts a demo session (development servers only). */
  async startDemo(sessionId: string): Promise<void> {
    await this.send("/dev/demo", { sessionId });
  }

  private async get<T extends z.ZodType>(path: string, schema: T): Promise<z.infer<T>> {
    const res = await fetch(this.base + path, { headers: { authorization: `Bearer ${this.token}` } });
    return schema.parse(await this.body(res));
  }

  private async send(path: string, body: unknown): Promise<unknown> {
    const res = await fetch(this.base + path, {
      method: "POST",
      headers: { authorization: `Bearer ${this.token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return this.body(res);
  }

  private async body(res: Response): Promise<unknown> {
    const json: unknown = await res.json().catch(() => null);
    if (res.ok) return json;
    const error = ErrorBody.safeParse(json);
    if (error.success) throw new ApiError(res.status, error.data.error.code, error.data.error.message);
    throw new ApiError(res.status, "http_error", `HTTP ${res.status}`);
  }
}

import type { z } from "zod";
import { CreditmeterError, ErrorBody, isErrorCode } from "@creditmeter/shared";

/** Where the metering server's REST API is, for the calls that have no queue event (CONTRACT §10). */
export interface ReporterHttpOptions {
  /** The server's base URL, e.g. "https://meter.example.com". */
  url: string;
  /** A `worker` token or API key (`cmk_…`), or a function that returns a fresh one for each call. */
  token: string | (() => string | Promise<string>);
  /** How long one call may take (default 10 s). */
  timeoutMs?: number;
}

/** The server refused a REST call: `code` is its error code (CONTRACT §4), `status` the HTTP status. */
export class RequestRefusedError extends CreditmeterError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
    field?: string,
  ) {
    super(isErrorCode(code) ? code : "internal", message, field);
    this.name = "RequestRefusedError";
  }
}

/** A small JSON client for the metering server; every answer is parsed with its contract schema. */
export class ReporterHttp {
  constructor(private readonly options: ReporterHttpOptions) {}

  /** Sends `body` to `path` and parses a 2xx answer with `schema`; anything else throws. */
  async send<T extends z.ZodType>(method: "POST" | "PUT", path: string, body: unknown, schema: T): Promise<z.infer<T>> {
    const { token } = this.options;
    const bearer = typeof token === "function" ? await token() : token;
    const res = await fetch(`${this.options.url.replace(/\/+$/, "")}${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    const json: unknown = await res.json().catch(() => null);
    if (!res.ok) {
      const error = ErrorBody.safeParse(json);
      if (!error.success)
        throw new RequestRefusedError(res.status, "internal", `${method} ${path}: HTTP ${res.status}`);
      const { code, message, details } = error.data.error;
      throw new RequestRefusedError(res.status, code, message, details?.field);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new RequestRefusedError(
        res.status,
        "internal",
        `${method} ${path}: unexpected answer: ${parsed.error.issues[0]?.message ?? "invalid"}`,
      );
    }
    return parsed.data;
  }
}

import type { QuoteAnswer, QuoteBody } from "@creditmeter/shared";
import { CreditMeterRequestError } from "./request-error.js";
import { ErrorPayload, QuotePayload } from "./server-payloads.js";

/** POST /v1/quote (CONTRACT §10) with the bearer token; the answer is checked before use. */
export async function postQuote(
  baseUrl: string,
  token: string,
  body: QuoteBody,
  timeoutMs: number,
): Promise<QuoteAnswer> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl.replace(/\/+$/, "")}/v1/quote`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new CreditMeterRequestError("unavailable", `quote: ${err instanceof Error ? err.message : String(err)}`);
  }
  const json: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = ErrorPayload.safeParse(json);
    if (error.success) throw new CreditMeterRequestError(error.data.error.code, error.data.error.message);
    throw new CreditMeterRequestError("http_error", `quote: HTTP ${res.status}`);
  }
  const quote = QuotePayload.safeParse(json);
  if (!quote.success) throw new CreditMeterRequestError("internal", "quote: malformed answer from the server");
  return quote.data;
}

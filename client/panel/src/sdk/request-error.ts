/** The server refused a request (or did not answer): `code` is the contract's error code (CONTRACT §4). */
export class CreditMeterRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "CreditMeterRequestError";
  }
}

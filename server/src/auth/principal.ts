import type { Role } from "@creditmeter/shared";

/** Who is calling: the verified `sub` and `role` of a bearer token, or an API key (CONTRACT §5). */
export interface Principal {
  accountId: string;
  role: Role;
  /** An API key's id (CONTRACT §5 v1.1): the `actor` its grants record. Absent for JWTs. */
  keyId?: string;
  /** The one account an account-scoped API key may act on; absent: no scope beyond the role's. */
  accountScope?: string;
  /** When a JWT stops being valid (epoch ms, from `exp`); absent for API keys, which are revoked instead. */
  expiresAt?: number;
}

/** Turns a bearer token into a Principal or throws CreditmeterError("unauthorized"). */
export interface AuthVerifier {
  verify(token: string): Promise<Principal>;
}

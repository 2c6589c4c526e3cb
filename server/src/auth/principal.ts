import type { Role } from "@creditmeter/shared";

/** Who is calling: the verified `sub` and `role` of a bearer token (CONTRACT §5). */
export interface Principal {
  accountId: string;
  role: Role;
}

/** Turns a bearer token into a Principal or throws CreditmeterError("unauthorized"). */
export interface AuthVerifier {
  verify(token: string): Promise<Principal>;
}

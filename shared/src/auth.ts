import { z } from "zod";
import { AccountId } from "./ids.js";

export const ROLES = ["user", "ops", "worker"] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;

/** The claims a creditmeter bearer token carries (CONTRACT §5). */
export const TokenClaims = z.object({ sub: AccountId, role: Role, exp: z.number().int() });
export type TokenClaims = z.infer<typeof TokenClaims>;

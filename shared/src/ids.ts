import { z } from "zod";

/** Event and step ids: not all digits and no ':' (BullMQ refuses those as job ids). */
export const EVENT_ID_PATTERN = /^(?![0-9]+$)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Account and session ids. */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Free text an audit entry keeps (an adjustment's reason, an event's model): no NUL character,
 * which PostgreSQL's text and jsonb cannot hold; one such entry would stop its account's archive.
 */
export const TrailText = z.string().regex(/^[^\0]*$/, "must not contain a NUL character");

export const EventId = z.string().regex(EVENT_ID_PATTERN, "must match the event id pattern");
export const AccountId = z.string().regex(ACCOUNT_ID_PATTERN, "must match the account id pattern");
export const SessionId = AccountId;
export const StepId = EventId;
/** Ids of cycles, packs and adjustments: the same shape as event ids. */
export const GrantId = EventId;

/** An ISO-8601 timestamp with a timezone (Z or an offset). */
export const IsoTime = z.iso.datetime({ offset: true });

export const PLANS = ["free", "plus", "pro"] as const;
export const Plan = z.enum(PLANS);
export type Plan = z.infer<typeof Plan>;

export const STAGES = ["research", "storyboard", "keyframes", "animation", "voiceover"] as const;
export const Stage = z.enum(STAGES);
export type Stage = z.infer<typeof Stage>;

export const ACTIONS = [
  "web_research",
  "script",
  "creative_brief",
  "storyboard",
  "brand_style",
  "image",
  "voiceover",
  "music",
  "animation",
  "talking_head",
] as const;
export const ActionId = z.enum(ACTIONS);
export type ActionId = z.infer<typeof ActionId>;

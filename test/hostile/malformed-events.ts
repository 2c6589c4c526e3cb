import fc from "fast-check";

/** How many malformed inputs a property tries; `npm run test:faults` raises it. */
export const FUZZ_RUNS = Number(process.env.CREDITMETER_FUZZ_RUNS ?? 10_000);
/** How many of them also go through the real queue and POST /v1/events. */
export const FUZZ_WIRE_RUNS = Number(process.env.CREDITMETER_FUZZ_WIRE_RUNS ?? 300);

/** A valid `stage.completed` the mutations start from: one broken thing makes it malformed. */
export function validBase(accountId: string, n: number): Record<string, unknown> {
  return {
    v: 1,
    eventId: `fz-${n}`,
    type: "stage.completed",
    accountId,
    sessionId: "s1",
    stepId: `step-${n}`,
    action: "animation",
    model: "veo-3.1",
    seconds: 4,
    occurredAt: new Date().toISOString(),
  };
}

type Mutation = (e: Record<string, unknown>) => Record<string, unknown>;

const REQUIRED = ["v", "eventId", "type", "accountId", "sessionId", "stepId", "action", "occurredAt"] as const;
const ID_FIELDS = ["eventId", "accountId", "sessionId", "stepId"] as const;
const JOB_ID_FIELDS = ["eventId", "stepId"] as const;

// Values no id field accepts: empty, a ':' (BullMQ), too long, non-strings. All digits is
// refused only for the two that become BullMQ job ids (eventId, stepId): see JOB_ID_FIELDS.
const badId = fc.oneof(
  fc.constantFrom("", ":", "a:b", "-lead", "x".repeat(129), "sp ace", "ü", "a/b"),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
);
const notObjectOrJunk = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.anything(), { maxLength: 3 }));

/** One mutation that makes a valid event invalid, whatever the rest looks like. */
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom(...REQUIRED).map((f): Mutation => (e) => {
    const { [f]: _dropped, ...rest } = e;
    return rest;
  }),
  fc.tuple(fc.constantFrom(...ID_FIELDS), badId).map(([f, v]): Mutation => (e) => ({ ...e, [f]: v })),
  fc.tuple(fc.constantFrom(...JOB_ID_FIELDS), fc.nat()).map(([f, n]): Mutation => (e) => ({ ...e, [f]: String(n) })),
  fc.oneof(fc.integer().filter((n) => n !== 1), fc.constant("1"), fc.constant(null), fc.double()).map((v): Mutation => (e) => ({ ...e, v })),
  fc.string().filter((s) => !s.startsWith("stage.")).map((type): Mutation => (e) => ({ ...e, type })),
  fc.string({ maxLength: 20 }).filter((s) => !["web_research", "script", "creative_brief", "storyboard", "brand_style", "image", "voiceover", "music", "animation", "talking_head"].includes(s)).map((action): Mutation => (e) => ({ ...e, action })),
  fc.oneof(fc.constantFrom("yesterday", "2024-13-45T00:00:00Z", "", "1700000000"), fc.integer(), fc.constant(new Date(Date.now() + 3_600_000).toISOString()), fc.constant("2000-01-01T00:00:00.000Z")).map((occurredAt): Mutation => (e) => ({ ...e, occurredAt })),
  fc.oneof(fc.double({ max: 0, noNaN: true }), fc.double({ min: 3600.0001, noNaN: true }), fc.constant(Number.NaN), fc.constant("4"), fc.constant(null)).map((seconds): Mutation => (e) => ({ ...e, seconds })),
  fc.oneof(fc.string({ maxLength: 10 }).filter((m) => !["veo-3.1-fast", "sora-2", "veo-3.1", "sora-2-pro"].includes(m)), fc.integer()).map((model): Mutation => (e) => ({ ...e, model })),
  fc.oneof(fc.integer({ max: 0 }), fc.integer({ min: 1001 }), fc.double({ min: 1.01, max: 2.99, noInteger: true })).map((scenes): Mutation => (e) => ({ ...e, action: "image", model: undefined, seconds: undefined, scenes })),
  // Each mutation breaks whatever type an earlier one left: a field that applies gets a bad value.
  fc.double({ min: 0, max: 1, noNaN: true }).map((progress): Mutation => (e) => ({ ...e, progress: e.type === "stage.progress" ? 1.5 : progress })),
  fc.string({ maxLength: 40 }).map((reason): Mutation => (e) => ({ ...e, reason: e.type === "stage.failed" ? "r".repeat(501) : reason })),
  fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in validBase("a", 0)) && !["scenes", "progress", "reason"].includes(k) && k !== "__proto__").map((k): Mutation => (e) => ({ ...e, [k]: 1 })),
  fc.constant<Mutation>((e) => ({ ...e, type: "stage.progress", progress: 1.5 })),
  fc.constant<Mutation>((e) => ({ ...e, type: "stage.failed", reason: "r".repeat(501) })),
);

function withoutUndefined(e: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).filter(([, v]) => v !== undefined));
}

/** A malformed stage event: one to three breaking mutations of a valid one, or junk that is no event at all. */
export function malformedEvent(accountId: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.nat(1_000_000), fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([n, ms]) => withoutUndefined(ms.reduce((e, m) => m(e), validBase(accountId, n)))) },
    { weight: 1, arbitrary: notObjectOrJunk },
    { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.anything({ maxDepth: 2 }), { maxKeys: 6 }) },
  );
}

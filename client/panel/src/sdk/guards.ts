// A few hand-written type guards in place of zod for the browser SDK: zod is about 13 KB gzipped of
// the script bundle, over the 35 KB budget (docs/decisions.md). Each guard checks what the panel
// relies on — types, integers ≥ 0, the enums it switches on — and nothing it does not read.

/** A guard's verdict, shaped like zod's `safeParse` so callers read the same either way. */
export type Parsed<T> = { success: true; data: T } | { success: false };

/** Checks `value`; `data` is the same object, typed, when it passes. */
export interface Guard<T> {
  (value: unknown): value is T;
  safeParse(value: unknown): Parsed<T>;
}

function guard<T>(check: (value: unknown) => boolean): Guard<T> {
  const is = ((value: unknown) => check(value)) as Guard<T>;
  is.safeParse = (value) => (check(value) ? { success: true, data: value as T } : { success: false });
  return is;
}

export const str = guard<string>((v) => typeof v === "string" && v.length > 0);
export const bool = guard<boolean>((v) => typeof v === "boolean");
export const num = guard<number>((v) => typeof v === "number" && Number.isFinite(v));
/** Credits: a safe integer ≥ 0. */
export const credits = guard<number>((v) => Number.isSafeInteger(v) && (v as number) >= 0);

/** One of the listed string values. */
export function oneOf<const T extends string>(values: readonly T[]): Guard<T> {
  return guard<T>((v) => typeof v === "string" && (values as readonly string[]).includes(v));
}

/** `null`, or what `inner` accepts. */
export function nullable<T>(inner: Guard<T>): Guard<T | null> {
  return guard<T | null>((v) => v === null || inner(v));
}

/** Absent (`undefined`), or what `inner` accepts: fields a server of an older version does not send. */
export function optional<T>(inner: Guard<T>): Guard<T | undefined> {
  return guard<T | undefined>((v) => v === undefined || inner(v));
}

/** An array whose every item `item` accepts. */
export function arrayOf<T>(item: Guard<T>): Guard<T[]> {
  return guard<T[]>((v) => Array.isArray(v) && v.every((x) => item(x)));
}

type Shape = Record<string, Guard<unknown>>;
type Of<S extends Shape> = { [K in keyof S]: S[K] extends Guard<infer T> ? T : never };

/** An object with at least these fields (extra fields pass, as with zod's `object`). */
export function object<S extends Shape>(shape: S): Guard<Of<S>> {
  const entries = Object.entries(shape);
  return guard<Of<S>>((v) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
    const record = v as Record<string, unknown>;
    return entries.every(([key, check]) => check(record[key]));
  });
}

/** What any of `options` accepts. */
export function anyOf<A, B>(a: Guard<A>, b: Guard<B>): Guard<A | B> {
  return guard<A | B>((v) => a(v) || b(v));
}

/** Exactly `value`. */
export function literal<const T extends string | number | boolean>(value: T): Guard<T> {
  return guard<T>((v) => v === value);
}

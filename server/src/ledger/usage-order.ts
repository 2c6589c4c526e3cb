import type { Usage } from "@creditmeter/shared";

type UsageGroup = Usage["groups"][number];

// One collator with a fixed locale: every process orders ties alike whatever its LANG (a bare
// localeCompare follows the process's default locale; "en-US" is what it was under C.UTF-8), and a
// reused collator compares faster than localeCompare building one per call.
const KEY_ORDER = new Intl.Collator("en-US");
const byKey = (a: UsageGroup, b: UsageGroup): number => KEY_ORDER.compare(a.key, b.key);

/**
 * Sorts usage groups by credits (most first), then key by an en-US collation (`localeCompare`'s under C.UTF-8): the order /usage has
 * always answered in, the same as `sort((a, b) => b.credits - a.credits || a.key.localeCompare(b.key))`
 * (both stable), with far fewer comparator calls. A year grouped by session is ~33,000 groups whose
 * credits tie often, and that sort was a good part of the read (docs/history.md). Groups are bucketed
 * by credits (a Map, no comparisons), the few distinct amounts sorted, and each bucket sorted by key.
 */
export function sortUsageGroups(groups: UsageGroup[]): UsageGroup[] {
  const byCredits = new Map<number, UsageGroup[]>();
  for (const g of groups) {
    const bucket = byCredits.get(g.credits);
    if (bucket) bucket.push(g);
    else byCredits.set(g.credits, [g]);
  }
  const out: UsageGroup[] = [];
  for (const credits of [...byCredits.keys()].sort((a, b) => b - a)) {
    for (const g of (byCredits.get(credits) ?? []).sort(byKey)) out.push(g);
  }
  return out;
}

import type { Stage } from "@creditmeter/shared";

// The contract's stages, in display order. A copy of @creditmeter/shared's STAGES rather than an
// import: that module builds zod schemas when loaded, which the script bundle does not carry.
// `satisfies` and the check below keep the two lists in step.
export const STAGES = [
  "research",
  "storyboard",
  "keyframes",
  "animation",
  "voiceover",
] as const satisfies readonly Stage[];

// Fails to compile when the contract gains a stage this list lacks.
type Missing = Exclude<Stage, (typeof STAGES)[number]>;
const _everyStage: [Missing] extends [never] ? true : Missing = true;
void _everyStage;

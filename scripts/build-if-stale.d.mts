// Types of build-if-stale.mjs for the TypeScript that imports it (test/packaging/pack.ts).
export interface BuiltPackage {
  dir: string;
  name: string;
  sources: string[];
  entry: string;
}
export const BUILT: BuiltPackage[];
export function stalePackages(root: string, packages?: BuiltPackage[]): BuiltPackage[];
export function buildStale(root: string, log: (line: string) => void): void;

// Copies non-TypeScript assets (Lua scripts) next to the compiled JavaScript: tsc only emits .js.
import { cpSync, readdirSync, statSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const [from, to, ext] = process.argv.slice(2);
if (!from || !to || !ext) throw new Error("usage: copy-assets <from> <to> <ext>");

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(ext)) {
      const target = join(to, path.slice(from.length));
      mkdirSync(join(target, ".."), { recursive: true });
      cpSync(path, target);
    }
  }
}
walk(from);

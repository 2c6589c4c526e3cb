import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { staticPagesRouter } from "./static-pages.js";

describe("static pages", () => {
  const dirs: string[] = [];
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function serve(uiDir: string): Promise<string> {
    const app = express();
    app.use(staticPagesRouter(uiDir));
    const server = app.listen(0, "127.0.0.1");
    servers.push(server);
    await new Promise((resolve) => server.once("listening", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("answers 503 naming the build command while the UI is not built, then serves it once built", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cm-ui-"));
    dirs.push(dir);
    const base = await serve(dir);
    for (const path of ["/", "/usage", "/ops"]) {
      const res = await fetch(base + path);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain("run npm run build");
    }
    mkdirSync(join(dir, "assets"));
    for (const [file, body] of [["index.html", "panel"], ["usage.html", "usage"], ["ops.html", "ops"], ["assets/a.js", "js"]] as const) {
      writeFileSync(join(dir, file), body);
    }
    expect(await (await fetch(`${base}/`)).text()).toBe("panel");
    expect(await (await fetch(`${base}/usage`)).text()).toBe("usage");
    expect(await (await fetch(`${base}/ops`)).text()).toBe("ops");
    expect(await (await fetch(`${base}/assets/a.js`)).text()).toBe("js");
  });
});

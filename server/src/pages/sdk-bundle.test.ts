import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { SDK_BUNDLE_PATH, sdkBundleRouter } from "./sdk-bundle.js";

describe("the panel's script bundle route", () => {
  const dirs: string[] = [];
  const servers: Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("answers 503 until the panel is built, then serves it as JavaScript any origin may load", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cm-panel-"));
    dirs.push(dir);
    const app = express();
    app.use(sdkBundleRouter(dir));
    const server = app.listen(0, "127.0.0.1");
    servers.push(server);
    await new Promise((resolve) => server.once("listening", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${SDK_BUNDLE_PATH}`;
    expect((await fetch(url)).status).toBe(503);
    writeFileSync(join(dir, "creditmeter-panel.js"), "window.CreditMeter={};");
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    expect(await res.text()).toBe("window.CreditMeter={};");
  });
});

import { execFile } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { CHROMIUM, SCREENSHOTS, startRig, type BrowserRig } from "../browser/harness.js";
import { writePlainPage, writeViteApp, writeWorker } from "./host-files.js";
import { PACKAGES, installedVersion, manifests, npmInstall, packAll, type PackageName } from "./pack.js";
import { serveStatic } from "./static-server.js";

// Issue 13: what a new user gets. Each package is packed; host apps in a folder outside the
// repository install only the tarballs (no workspace links) and run against a real server in
// Chromium; a Node worker reports a stage through the reporter tarball.

const BUDGET_BYTES = 35 * 1024;

/**
 * Runs a command without blocking this process — the server under test runs in it and must keep
 * answering — and fails with the command's output (a type error in the host app, say).
 */
function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

describe.skipIf(!existsSync(CHROMIUM))(`host apps from the packed tarballs (skipped: ${CHROMIUM} is not installed)`, () => {
  const work = mkdtempSync(join(tmpdir(), "creditmeter-host-"));
  let tarballs: Record<PackageName, string>;
  let rig: BrowserRig;
  let site: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    mkdirSync(join(work, "packs"));
    tarballs = packAll(join(work, "packs"));
    rig = await startRig();
    // The web host: both apps under one static origin that is not the metering server's.
    const web = join(work, "web");
    writePlainPage(web, rig.url);
    writeViteApp(join(web, "vite-app"), { vite: installedVersion("vite"), typescript: installedVersion("typescript") });
    await npmInstall(join(web, "vite-app"), PACKAGES.map((p) => tarballs[p.name]));
    await run("npm", ["run", "build", "--silent"], join(web, "vite-app"));
    site = await serveStatic(web);
  }, 900_000);
  afterAll(async () => {
    await site?.close();
    await rig?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("publishes three packages whose versions move in step, with types first in every export", () => {
    const all = manifests();
    const version = all[0]?.version;
    for (const m of all) {
      expect(m.private, m.name).toBeUndefined();
      expect(m.version, m.name).toBe(version);
      for (const [dep, range] of Object.entries(m.dependencies ?? {})) if (dep.startsWith("@creditmeter/")) expect(range, `${m.name} → ${dep}`).toBe(version);
    }
    const installed = join(work, "web", "vite-app", "node_modules", "@creditmeter");
    for (const { name } of PACKAGES) {
      const dir = join(installed, name.split("/")[1] ?? "");
      expect(lstatSync(dir).isSymbolicLink(), `${name} is a copy from its tarball, not a link`).toBe(false);
      const exportsMap = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { exports: Record<string, unknown> }).exports;
      for (const [path, target] of Object.entries(exportsMap)) {
        if (typeof target !== "object" || target === null) continue;
        const conditions = Object.keys(target).filter((c) => c !== "source");
        expect(conditions[0], `${name} "${path}"`).toBe("types");
        for (const file of Object.values(target as Record<string, string>).filter((f) => !f.startsWith("./src/"))) expect(existsSync(join(dir, file)), `${name} ${file}`).toBe(true);
      }
    }
  });

  it(`the script-tag bundle (SDK + elements) is within ${BUDGET_BYTES / 1024} KB gzipped`, async () => {
    const bundle = readFileSync(join(work, "web", "vite-app", "node_modules", "@creditmeter", "panel", "dist", "creditmeter-panel.js"));
    const gzipped = gzipSync(bundle, { level: 9 }).length;
    console.log(`creditmeter-panel.js: ${(bundle.length / 1024).toFixed(1)} KB, ${(gzipped / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_BYTES / 1024} KB)`);
    expect(gzipped).toBeLessThanOrEqual(BUDGET_BYTES);
    // The server serves the same file at its stable path.
    const served = await fetch(`${rig.url}/sdk/creditmeter-panel.js`);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer()).equals(bundle)).toBe(true);
  });

  /** Opens a host page for a fresh account: the counter moves on a charge, the banner appears at the low crossing. */
  async function exercise(path: string, shot: string): Promise<Page> {
    const acct = await rig.account();
    const token = await rig.token(acct);
    const page = await (await rig.browser.newContext()).newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    await page.goto(`${site.url}${path}?server=${encodeURIComponent(rig.url)}&token=${token}&session=s1`);
    const used = page.getByTestId("session-used");
    await expect.poll(() => used.textContent(), { timeout: 15_000 }).toBe("0");
    await rig.publish(acct, "s1", "stage.completed", { stepId: "script", action: "script" });
    await expect.poll(() => used.textContent(), { timeout: 10_000 }).toBe("1");
    expect(await page.getByTestId("low-credit-banner").count()).toBe(0);
    // 1 + ceil(11.95) × 20 = 241 charged of 300: 59 left, below the low threshold of 60.
    await rig.publish(acct, "s1", "stage.completed", { stepId: "a1", action: "animation", model: "veo-3.1", seconds: 11.95 });
    await expect.poll(() => page.getByTestId("low-credit-banner").count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => used.textContent()).toBe("241"); // it counts up to the new total
    await page.screenshot({ path: `${SCREENSHOTS}/${shot}.png` });
    expect(errors).toEqual([]);
    return page;
  }

  it("a plain HTML page with the script tag: the counter moves on a charge, the banner appears at the low crossing", async () => {
    const page = await exercise("/plain/index.html", "host-plain");
    await page.context().close();
  });

  it("a Vite + TypeScript app built from the ESM packages does the same, and takes over Upgrade plan", async () => {
    const page = await exercise("/vite-app/dist/index.html", "host-vite");
    expect(await page.evaluate("document.body.dataset.available")).toBe("59");
    await page.getByTestId("banner-upgrade").click();
    expect(await page.evaluate("document.body.dataset.upgrade")).toBe("low");
    expect(page.url()).toContain("/vite-app/dist/index.html");
    await page.context().close();
  });

  it("a Node worker with only the reporter (and the contract it depends on) reports a stage and gets its decision", async () => {
    const dir = join(work, "worker");
    writeWorker(dir);
    await npmInstall(dir, [tarballs["@creditmeter/reporter"], tarballs["@creditmeter/shared"]]);
    expect(existsSync(join(dir, "node_modules", "lit")), "no browser packages in a worker").toBe(false);
    const acct = await rig.account();
    const prefix = rig.queue.opts.prefix ?? "";
    const out = await run(process.execPath, ["worker.mjs", rig.server.config.redisUrl, rig.queue.name, prefix, acct], dir);
    const decision = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as { granted: boolean; held: number; available: number };
    expect(decision).toMatchObject({ granted: true, held: 80, available: 220 }); // 4 s × 20 of 300
  });
});

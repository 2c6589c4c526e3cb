import { afterEach, describe, expect, it } from "vitest";
import { createDemoLauncher, type DemoLauncher } from "./demo-launcher.js";

/** A run that lives until it is killed. */
const forever = () => ({ file: process.execPath, args: ["-e", "setInterval(() => undefined, 1000)"] });
const config = { redisUrl: "redis://127.0.0.1:1", queueName: "q", queuePrefix: "p", demoMaxConcurrent: 2 };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let launcher: DemoLauncher | undefined;
afterEach(async () => {
  await launcher?.close(500);
});

describe("demo launcher", () => {
  it("runs one demo per account and at most demoMaxConcurrent in all", () => {
    launcher = createDemoLauncher({ config, command: forever });
    expect(launcher.start("a", "s1")).toBe("started");
    expect(launcher.start("a", "s2")).toBe("already_running");
    expect(launcher.start("b", "s1")).toBe("started");
    expect(launcher.start("c", "s1")).toBe("busy");
  });

  it("leaves no run behind when closed", async () => {
    const errors: Error[] = [];
    launcher = createDemoLauncher({ config, command: forever, onError: (err) => errors.push(err) });
    expect(launcher.start("a", "s1")).toBe("started");
    expect(launcher.start("b", "s1")).toBe("started");
    const running = launcher.running();
    expect(running).toHaveLength(2);
    await launcher.close(500);
    for (const pid of running) expect(alive(pid)).toBe(false);
    expect(launcher.start("c", "s1")).toBe("unavailable");
    expect(errors).toEqual([]);
  });
});

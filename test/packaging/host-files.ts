import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

// The host apps of the packaging test, as a new user would write them from the READMEs.

function write(root: string, files: Record<string, string>): void {
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), body);
  }
}

/** A plain HTML page: the script tag the server serves and the elements, nothing else. */
export function writePlainPage(root: string, server: string): void {
  write(root, {
    "plain/index.html": `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Plain host</title></head>
  <body>
    <low-credit-banner upgrade-url="/pricing"></low-credit-banner>
    <credit-session-counter session-id="s1"></credit-session-counter>
    <credit-balance usage-href="/usage"></credit-balance>
    <script src="${server}/sdk/creditmeter-panel.js"></script>
    <script>
      const token = new URLSearchParams(location.search).get("token");
      CreditMeter.configureCreditMeter({ url: "${server}", token: () => token });
    </script>
  </body>
</html>
`,
  });
}

/** A Vite + TypeScript app importing the ESM packages, type-checked strictly (also against a deliberate mistake). */
export function writeViteApp(root: string, versions: { vite: string; typescript: string }): void {
  write(root, {
    "package.json": JSON.stringify(
      {
        name: "host-vite-app",
        private: true,
        type: "module",
        scripts: { build: "tsc --noEmit && vite build --base ./" },
        devDependencies: { vite: versions.vite, typescript: versions.typescript },
      },
      null,
      2,
    ),
    "tsconfig.json": JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          module: "ESNext",
          moduleResolution: "bundler",
          lib: ["ES2022", "DOM", "DOM.Iterable"],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        include: ["src"],
      },
      null,
      2,
    ),
    "index.html": `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><title>Vite host</title></head>
  <body>
    <low-credit-banner upgrade-url="/pricing"></low-credit-banner>
    <credit-session-counter></credit-session-counter>
    <credit-balance></credit-balance>
    <script type="module" src="/src/main.ts"></script>
  </body>
</html>
`,
    "src/main.ts": `import { configureCreditMeter, type CreditUpgradeDetail } from "@creditmeter/panel";
import type { Balance } from "@creditmeter/shared";

const params = new URLSearchParams(location.search);
document.querySelector("credit-session-counter")?.setAttribute("session-id", params.get("session") ?? "s1");
const meter = configureCreditMeter({ url: params.get("server") ?? "", token: () => params.get("token") ?? "" });
meter.onBalance((balance: Balance) => {
  document.body.dataset.available = String(balance.available);
});
document.addEventListener("credit-upgrade", (event: CustomEvent<CreditUpgradeDetail>) => {
  event.preventDefault(); // our own checkout
  // The banner's alert level, or why else (the session counter's forecast shortfall: level null).
  document.body.dataset.upgrade = event.detail.level ?? event.detail.reason;
});
`,
    // Never imported by the app: proves the types are real (were they \`any\`, the directive would be unused: an error).
    "src/types-are-checked.ts": `import { createCreditMeter } from "@creditmeter/panel/sdk";

// @ts-expect-error a token is a string or a function returning one
export const wrong = (): unknown => createCreditMeter({ url: "", token: 42 });
`,
  });
}

/** A Node worker that reports one stage through the reporter and prints the decision as JSON. */
export function writeWorker(root: string): void {
  write(root, {
    "package.json": JSON.stringify({ name: "host-worker", private: true, type: "module" }, null, 2),
    "worker.mjs": `import { StageReporter } from "@creditmeter/reporter";

const [url, queueName, prefix, accountId] = process.argv.slice(2);
const reporter = new StageReporter({ connection: { url }, queueName, prefix, accountId, sessionId: "worker-1" });
const decision = await reporter.started("scene-1", { action: "animation", model: "veo-3.1", seconds: 4 });
console.log(JSON.stringify(decision));
await reporter.close();
`,
  });
}

import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The self-contained script bundle: SDK + elements + lit + socket.io-client in one IIFE, so a plain
// page needs only <script src> (the server serves it at /sdk/creditmeter-panel.js).
export default defineConfig({
  resolve: { conditions: ["source", "browser", "module", "import", "default"] },
  build: {
    outDir: fileURLToPath(new URL("./dist", import.meta.url)),
    emptyOutDir: false,
    target: "es2022",
    sourcemap: true,
    lib: {
      entry: fileURLToPath(new URL("./src/bundle.ts", import.meta.url)),
      formats: ["iife"],
      name: "CreditMeterBundle",
      fileName: () => "creditmeter-panel.js",
    },
  },
});

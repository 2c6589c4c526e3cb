import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// The pages the server serves (CONTRACT §9): one HTML entry each, built into dist/ui.
export default defineConfig({
  root: here("./pages"),
  base: "/",
  // Workspace packages resolve to their TypeScript sources, as in the tests.
  resolve: { conditions: ["source", "browser", "module", "import", "default"] },
  build: {
    outDir: here("./dist/ui"),
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
    rollupOptions: {
      input: {
        index: here("./pages/index.html"),
        usage: here("./pages/usage.html"),
        ops: here("./pages/ops.html"),
      },
    },
  },
  server: {
    // `vite` in dev: the API and Socket.IO come from a running server on :3000.
    proxy: {
      "/v1": "http://127.0.0.1:3000",
      "/dev": "http://127.0.0.1:3000",
      "/socket.io": { target: "ws://127.0.0.1:3000", ws: true },
    },
  },
});

import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// `npm run dev` proxies the API to a running gateway (make run: 127.0.0.1:8000).
export default defineConfig({
  plugins: [preact()],
  build: { outDir: "dist", sourcemap: false, target: "es2020" },
  server: { proxy: { "/api": "http://127.0.0.1:8000", "/media": "http://127.0.0.1:8000" } },
});

/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The backend serves the built portal at /portal/ (canteen.portal.mount_portal); in
// `npm run dev` Vite serves it and forwards the API, media and the SSE stream to a
// running backend (CANTEEN_BACKEND, default http://127.0.0.1:8000).
const backend = process.env.CANTEEN_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/portal/",
  plugins: [react()],
  resolve: {
    alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) },
  },
  server: {
    proxy: {
      "/api": { target: backend, changeOrigin: false, ws: true },
      "/media": { target: backend },
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/testing/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
    restoreMocks: true,
  },
});

/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The Makefile deletes ui/dist/assets and ui/dist/index.html before a build;
// emptyOutDir stays false so the committed ui/dist/.keep placeholder survives
// (go:embed needs the directory to exist without Node).
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: {
    // `npm run dev` proxies the API to a locally running `vega serve`.
    proxy: { '/v1': 'http://127.0.0.1:8000' },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
  },
});

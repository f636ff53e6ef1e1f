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
    // jsdom plus userEvent typing is CPU-bound: on a loaded 2-core CI machine
    // a test that takes 1 s alone took 5–8 s (Vitest's default limit is 5 s).
    // Tests still fail on a real hang; findBy* waits are set per test.
    testTimeout: 30_000,
  },
});

// Builds the dashboard into <package root>/dist/web, where `kiln server` serves it (src/api/routes/web.ts).
import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vite';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('.'),
  base: '/',
  publicDir: here('./public'),
  // The SDK sends with node:http in Node; the dashboard's copy sends with fetch.
  resolve: { alias: [{ find: /^\.\/nodeSend\.js$/, replacement: here('../sdk/nodeSend.browser.ts') }] },
  build: {
    outDir: here('../../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 500,
  },
  server: {
    // `npm run dev:web`-style use: the API of a `kiln server` running on the default address.
    proxy: { '/api': { target: 'http://127.0.0.1:3000', ws: true } },
  },
});

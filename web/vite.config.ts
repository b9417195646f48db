import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The inbox page: built into dist/web, which the server serves at / (src/routes/page.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    // one file of script and one of style, hashed: served with immutable caching
    modulePreload: false,
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});

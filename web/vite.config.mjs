// The web app's build: `npm run build:web` bundles web/ into dist/web/, which `iquery serve` serves at `/`.
// JSX goes through esbuild's automatic runtime (there is no React plugin for vite 7 to rely on).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const web = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: web,
  // Relative asset paths, so the app also works behind a proxy under a sub-path.
  base: './',
  publicDir: false,
  esbuild: { jsx: 'automatic' },
  // `npx vite --config web/vite.config.mjs` serves the app with live reload, the API from `iquery serve`.
  server: { proxy: { '/api': `http://127.0.0.1:${process.env.IQUERY_SERVE_PORT ?? 8765}` } },
  build: {
    outDir: join(web, '..', 'dist', 'web'),
    emptyOutDir: true,
    // echarts alone is ~400 kB minified even with only the parts used; a warning at 500 kB says nothing new.
    chunkSizeWarningLimit: 900,
  },
});

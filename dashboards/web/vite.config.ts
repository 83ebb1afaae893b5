import { defineConfig } from 'vite';

// Built by `make` into dist/, which the API process serves; nothing is fetched from elsewhere at run time.
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Every byte is loaded before the first search: keep the budget visible.
    chunkSizeWarningLimit: 200,
  },
});

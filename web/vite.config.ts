import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * The web UI is served by Kura itself on both zones (LG-05, FAC-02): every asset, fonts included,
 * is emitted as a file under /assets. Nothing is inlined, so the strict CSP (script-src 'self',
 * style-src 'self', font-src 'self') holds without exceptions.
 */
export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  plugins: [react(), tailwindcss()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
  },
});

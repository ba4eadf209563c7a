import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The app is served by origin from dist/ at the site root; in `npm run dev` the
// API, posters and media are proxied to a running origin (MARQUEE_ORIGIN).
const origin = process.env.MARQUEE_ORIGIN ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    // Shaka Player alone is ~700 kB minified; it is one lazy chunk loaded by the player page.
    chunkSizeWarningLimit: 900,
  },
  server: {
    proxy: {
      '/api': { target: origin, changeOrigin: false },
      '/media': { target: origin, changeOrigin: false },
    },
  },
});

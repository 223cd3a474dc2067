/** Serves the built web UI (web/dist) from Kura's own origin on each zone: no CDN (FAC-02, LG-05). */
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

/** Absolute path of the built UI; the same from src/ (tsx, tests) and dist/ (compiled). */
export const WEB_DIST = resolve(dirname(fileURLToPath(import.meta.url)), '../../web/dist');

export async function registerWebUi(app: FastifyInstance): Promise<boolean> {
  if (!existsSync(resolve(WEB_DIST, 'index.html'))) {
    app.log.warn({ dir: WEB_DIST }, 'web UI not built (npm run build:web); serving the API only');
    return false;
  }
  await app.register(fastifyStatic, {
    root: WEB_DIST,
    index: 'index.html',
    wildcard: false,
    setHeaders: (res, path) => {
      // Hashed assets are immutable; the HTML shell is revalidated so a deploy takes effect.
      res.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  return true;
}

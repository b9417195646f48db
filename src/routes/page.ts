import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { HttpError } from '../http/errors.js';

/**
 * GET /: the inbox page (built from web/ into dist/web by `npm run build`), and its assets.
 *
 * Asset names carry a hash of their content, so they are cached for a year as immutable;
 * index.html is revalidated on every load (no-cache), so a new release is picked up at once.
 * Every answer carries `Content-Security-Policy: default-src 'self'`: the page loads nothing
 * from elsewhere and runs no inline script or style.
 *
 * Only the files present at start are served (no wildcard route), so an unknown path stays an
 * ordinary 404 with one metrics label.
 */

/** Where `npm run build` puts the page, next to the compiled server. */
export const PAGE_DIR = fileURLToPath(new URL('../web/', import.meta.url));

export const CONTENT_SECURITY_POLICY = "default-src 'self'";

const NOT_BUILT = 'the inbox page is not built: run npm run build';

export interface PageOptions {
  /** the built page; PAGE_DIR by default */
  dir?: string;
}

const pageRoutes: FastifyPluginAsync<PageOptions> = async (app, { dir = PAGE_DIR }) => {
  if (!existsSync(`${dir}/index.html`)) {
    // from a checkout run through tsx, before a build: say so rather than a bare 404
    app.get('/', { schema: { hide: true } }, async () => {
      throw new HttpError(404, NOT_BUILT);
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    schemaHide: true,
    cacheControl: false,
    etag: true,
    lastModified: true,
    setHeaders(reply, path) {
      reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
};

export default pageRoutes;

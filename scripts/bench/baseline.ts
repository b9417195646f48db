/**
 * The yardstick for the ingest benchmark: a bare Fastify server that reads the POST body as raw
 * bytes and answers {"status":"ok"}, doing nothing else (no signature, parsing, storage or logs).
 * With PAGE_FILE (a JSON file), GET /messages answers that JSON, serialized for each request as
 * Fastify does: the yardstick for reads (scripts/perf/page-floor.ts).
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.post('/webhook', async () => ({ status: 'ok' }));
app.get('/health/live', async () => ({ status: 'ok' }));
const pageFile = process.env.PAGE_FILE;
if (pageFile !== undefined) {
  const page: unknown = JSON.parse(readFileSync(pageFile, 'utf8'));
  app.get('/messages', async () => page);
}
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));

import fastifyExpress from '@fastify/express';
import { tracing as expressTracing } from '@tracewire/express';
import { tracing as fastifyTracing } from '@tracewire/fastify';
import { configure, getActiveSpan, InMemoryExporter, SimpleSpanProcessor } from '@tracewire/node';
import express from 'express';
import fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

// An Express app inside Fastify (@fastify/express, the migration path from Express): Fastify's plugin traces the
// request, but only Express knows the route that answered. The Express adapter inside names it.

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'fastify-express',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});
afterAll(() => tracer.shutdown());
beforeEach(() => exporter.reset());

let app: FastifyInstance | undefined;
afterEach(() => app?.close());

describe('Express inside Fastify through @fastify/express', () => {
  it('is one span, named by the Express route when the Express app has tracing() too', async () => {
    app = fastify();
    await app.register(fastifyTracing);
    await app.register(fastifyExpress);
    const inner = express();
    inner.use(expressTracing());
    const router = express.Router();
    router.get('/things/:id', (_req, res) => {
      res.json({ active: getActiveSpan()?.spanContext().spanId });
    });
    inner.use('/legacy', router);
    app.use(inner);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };

    const body = (await (await fetch(`http://127.0.0.1:${port}/legacy/things/1`)).json()) as {
      active?: string;
    };
    for (let i = 0; i < 200 && exporter.getFinishedSpans().length === 0; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['GET /legacy/things/:id']);
    expect(spans[0]?.attributes['http.route']).toBe('/legacy/things/:id');
    expect(body.active).toBe(spans[0]?.spanContext().spanId);
  });
});

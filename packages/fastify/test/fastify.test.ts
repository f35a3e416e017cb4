import { request as httpRequest } from 'node:http';
import {
  getActiveSpan,
  InMemoryExporter,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
  SpanStatusCode,
  Tracer,
} from '@tracewire/node';
import fastify5, { type FastifyInstance } from 'fastify';
import fastify4 from 'fastify4';
import supertest from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tracing } from '../src/index.js';

const exporter = new InMemoryExporter();
const sampledNames: string[] = [];
const namingSampler: Sampler = {
  shouldSample(_traceId, _parent, name) {
    sampledNames.push(name);
    return true;
  },
  toString: () => 'naming',
};
const tracer = new Tracer({ processors: [new SimpleSpanProcessor(exporter)], sampler: namingSampler });

beforeEach(() => {
  exporter.reset();
  sampledNames.length = 0;
});

async function span(): Promise<ReadableSpan> {
  for (let i = 0; i < 400 && exporter.getFinishedSpans().length === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(1);
  return spans[0]!;
}

class ConflictError extends Error {
  override name = 'ConflictError';
}

describe.each([
  ['Fastify 5', fastify5],
  ['Fastify 4', fastify4 as unknown as typeof fastify5],
] as const)('%s', (_name, fastify) => {
  let app: FastifyInstance | undefined;
  const activeInOnTimeout: (string | undefined)[] = [];

  afterEach(() => app?.close());
  const setApp = (instance: FastifyInstance): void => {
    app = instance;
  };

  async function start(options: { connectionTimeout?: number } = {}): Promise<string> {
    const app = fastify({ logger: false, ...options });
    setApp(app);
    await app.register(tracing, { tracer });
    const seen: Record<string, string | undefined> = {};
    // Hooks added after the plugin, in the root and in an encapsulated child, see the server span.
    app.addHook('onRequest', async (req) => {
      seen.onRequest = getActiveSpan()?.spanContext().spanId;
      (req as unknown as { seen: typeof seen }).seen = seen;
    });
    app.addHook('preHandler', async () => {
      seen.preHandler = getActiveSpan()?.spanContext().spanId;
    });
    app.addHook('onTimeout', (_req, _reply, done) => {
      activeInOnTimeout.push(getActiveSpan()?.spanContext().spanId);
      done();
    });
    await app.register(
      async (child) => {
        await child.register(
          async (grandchild) => {
            grandchild.get('/items/:id', async () => ({
              ...seen,
              handler: getActiveSpan()?.spanContext().spanId,
            }));
            grandchild.post('/items', async (req) => ({
              body: req.body,
              handler: getActiveSpan()?.spanContext().spanId,
            }));
          },
          { prefix: '/v2' },
        );
      },
      { prefix: '/shop' },
    );
    app.get('/conflict', async () => {
      throw new ConflictError('taken');
    });
    app.setErrorHandler((error, _req, reply) => {
      reply.code(error instanceof ConflictError ? 409 : 500).send({ error: String(error) });
    });
    app.get('/hang', () => new Promise(() => {}));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  it('declares its name and supported Fastify versions through fastify-plugin', () => {
    const meta = (tracing as unknown as Record<symbol, { name: string; fastify: string }>)[
      Symbol.for('plugin-meta')
    ];
    expect(meta).toMatchObject({ name: '@tracewire/fastify', fastify: '4.x || 5.x' });
  });

  it('names routes of encapsulated child plugins by their full prefixed template, already at sampling', async () => {
    const url = await start();
    await supertest(url).get('/shop/v2/items/5').expect(200);
    const s = await span();
    expect(s.name).toBe('GET /shop/v2/items/:id');
    expect(s.attributes['http.route']).toBe('/shop/v2/items/:id');
    expect(sampledNames).toEqual(['GET /shop/v2/items/:id']);
  });

  it('keeps the span active in hooks added after it and in the handler, also after body parsing', async () => {
    const url = await start();
    const res = await supertest(url).get('/shop/v2/items/5').expect(200);
    const id = (await span()).spanContext().spanId;
    expect(res.body).toEqual({ onRequest: id, preHandler: id, handler: id });
    exporter.reset();
    const posted = await supertest(url).post('/shop/v2/items').send({ a: 1 }).expect(200);
    expect(posted.body).toEqual({ body: { a: 1 }, handler: (await span()).spanContext().spanId });
  });

  it('records an error handled by setErrorHandler without marking a 4xx as an error', async () => {
    const url = await start();
    await supertest(url).get('/conflict').expect(409);
    const s = await span();
    expect(s.status.code).toBe(SpanStatusCode.UNSET);
    expect(s.events[0]?.attributes?.['exception.type']).toBe('ConflictError');
  });

  it('ends the span as a timeout when the connection times out (onTimeout)', async () => {
    activeInOnTimeout.length = 0;
    const url = await start({ connectionTimeout: 100 });
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${url}/hang`);
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.end();
    });
    const s = await span();
    expect(s.name).toBe('GET /hang');
    expect(s.status.code).toBe(SpanStatusCode.ERROR);
    expect(s.attributes['error.type']).toBe('timeout');
    // The timeout comes from the socket, outside the request's context; an app's own onTimeout hook still sees it.
    expect(activeInOnTimeout).toEqual([s.spanContext().spanId]);
  });

  it('rejects invalid options at registration, naming the option', async () => {
    const instance = fastify({ logger: false });
    setApp(instance);
    instance.register(tracing, { ignore: 'health' as never });
    await expect(instance.ready()).rejects.toThrow(/ignore must be/);
  });
});

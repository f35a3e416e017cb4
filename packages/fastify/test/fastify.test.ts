import { get as httpGet, request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import {
  getActiveSpan,
  InMemoryExporter,
  installOutgoing,
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
import { failingBody, getUntilClosed } from '../../../test/fixtures/failing-body.js';
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

/** The one finished span, after giving a second `end` time to show up. */
async function onlySpan(): Promise<ReadableSpan> {
  await span();
  await new Promise((r) => setTimeout(r, 50));
  return span();
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
    app.get('/stream', (_req, reply) => {
      reply.type('text/plain').send(Readable.from(['a', 'b', 'c']));
    });
    app.get('/stream/fails-early', async (_req, reply) => {
      reply.type('text/plain');
      return failingBody();
    });
    app.get('/raw/throws-after-write', (_req, reply) => {
      reply.raw.write('part');
      throw new ConflictError('after the headers');
    });
    app.get('/stream/fails-midway', (_req, reply) => {
      reply.type('text/plain').send(failingBody('part'));
    });
    app.get('/stream/endless', async (_req, reply) => {
      reply.type('text/plain');
      const chunk = Buffer.alloc(64 * 1024, 120);
      return new Readable({
        read() {
          this.push(chunk);
        },
      });
    });
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

  it('names routes of encapsulated child plugins by their full prefixed template', async () => {
    const url = await start();
    await supertest(url).get('/shop/v2/items/5').expect(200);
    const s = await span();
    expect(s.name).toBe('GET /shop/v2/items/:id');
    expect(s.attributes['http.route']).toBe('/shop/v2/items/:id');
    // The span starts as the server emits the request, before Fastify routes it (as in Express and Koa).
    expect(sampledNames).toEqual(['GET']);
  });

  it('traces requests that onRequest hooks added before the plugin answer, and their outgoing calls', async () => {
    const downstream = fastify({ logger: false });
    const seenTraceparents: (string | undefined)[] = [];
    downstream.get('/check', async (req) => {
      seenTraceparents.push(req.headers.traceparent as string | undefined);
      return { ok: true };
    });
    await downstream.listen({ port: 0, host: '127.0.0.1' });
    const address = downstream.server.address();
    const checkUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/check`;
    const uninstallOutgoing = installOutgoing(tracer);
    try {
      const instance = fastify({ logger: false });
      setApp(instance);
      // As NestJS's middleware, @fastify/cors, rate limiters and auth plugins do: a hook ahead of tracing.
      const inEarlyHook: (string | undefined)[] = [];
      instance.addHook('onRequest', async (req, reply) => {
        inEarlyHook.push(getActiveSpan()?.spanContext().spanId);
        await fetch(checkUrl);
        if (req.headers.authorization === undefined) return reply.code(401).send({ error: 'no' });
      });
      await instance.register(tracing, { tracer });
      instance.get('/users/:id', async () => ({ ok: true }));
      await instance.listen({ port: 0, host: '127.0.0.1' });
      const port = (instance.server.address() as { port: number }).port;

      await supertest(`http://127.0.0.1:${port}`).get('/users/1').expect(401);
      await supertest(`http://127.0.0.1:${port}`).get('/users/2').set('authorization', 'x').expect(200);
      for (let i = 0; i < 400 && exporter.getFinishedSpans().length < 4; i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      const servers = exporter.getFinishedSpans().filter((s) => s.kind === 1);
      const clients = exporter.getFinishedSpans().filter((s) => s.kind === 2);
      expect(servers.map((s) => [s.name, s.attributes['http.response.status_code']])).toEqual([
        ['GET', 401],
        ['GET /users/:id', 200],
      ]);
      expect(inEarlyHook).toEqual(servers.map((s) => s.spanContext().spanId));
      expect(clients.map((c) => c.parentSpanId)).toEqual(servers.map((s) => s.spanContext().spanId));
      expect(seenTraceparents.map((t) => t?.split('-')[2])).toEqual(
        clients.map((c) => c.spanContext().spanId),
      );
    } finally {
      uninstallOutgoing();
      await downstream.close();
    }
  });

  // Fastify 4 leaves such a response open (the client waits until it times out).
  it.skipIf(fastify !== fastify5)(
    'records the status the client got when a handler throws after reply.raw.writeHead(200)',
    async () => {
      const instance = fastify({ logger: false });
      setApp(instance);
      await instance.register(tracing, { tracer });
      instance.get('/raw/:id', async (_req, reply) => {
        reply.raw.writeHead(200, { 'content-type': 'text/plain' });
        reply.raw.write('partial');
        // Fastify then sets statusCode 500 on the raw response, after its head went out with 200.
        throw new Error('after the head');
      });
      await instance.listen({ port: 0, host: '127.0.0.1' });
      const port = (instance.server.address() as { port: number }).port;
      const status = await new Promise<number | undefined>((resolve) => {
        httpGet(`http://127.0.0.1:${port}/raw/1`, (res) => {
          res.resume();
          res.on('close', () => resolve(res.statusCode));
        }).on('error', () => resolve(undefined));
      });
      expect(status).toBe(200);
      const recorded = await onlySpan();
      expect(recorded.name).toBe('GET /raw/:id');
      expect(recorded.attributes['http.response.status_code']).toBe(200);
    },
  );

  it('traces requests made with inject, which never pass through the server', async () => {
    const instance = fastify({ logger: false });
    setApp(instance);
    await instance.register(tracing, { tracer });
    instance.get('/users/:id', async () => ({ active: getActiveSpan()?.spanContext().spanId }));
    const res = await instance.inject({ method: 'GET', url: '/users/7' });
    const s = await span();
    expect(s.name).toBe('GET /users/:id');
    // inject's stand-in socket never drains: the answer still ends the span as completed, not as an abort.
    expect(s.status.code).toBe(SpanStatusCode.UNSET);
    expect(s.attributes['error.type']).toBeUndefined();
    expect(res.json()).toEqual({ active: s.spanContext().spanId });
    expect(sampledNames).toEqual(['GET /users/:id']);
  });

  it('gives the server its own emit back on close', async () => {
    const instance = fastify({ logger: false });
    const emitBefore = instance.server.emit;
    await instance.register(tracing, { tracer });
    await instance.ready();
    expect(instance.server.emit).not.toBe(emitBefore);
    await instance.close();
    expect(instance.server.emit).toBe(emitBefore);
    expect(Object.hasOwn(instance.server, 'emit')).toBe(false);
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

  it('ends a streamed reply once, after the stream ends', async () => {
    const url = await start();
    const res = await supertest(url).get('/stream').expect(200);
    expect(res.text).toBe('abc');
    const s = await onlySpan();
    expect(s.status.code).toBe(SpanStatusCode.UNSET);
    expect(s.events).toHaveLength(0);
  });

  it('records a reply stream failing after the headers as its exception, not as a client abort', async () => {
    const url = await start();
    const res = await getUntilClosed(url, '/stream/fails-midway');
    expect(res).toEqual({ status: 200, body: 'part' });
    const s = await onlySpan();
    expect(s.name).toBe('GET /stream/fails-midway');
    expect(s.status.code).toBe(SpanStatusCode.ERROR);
    expect(s.attributes['error.type']).toBe('DiskError');
    const exceptions = s.events.filter((e) => e.name === 'exception');
    expect(exceptions).toHaveLength(1);
    expect(exceptions[0]?.attributes).toMatchObject({
      'exception.type': 'DiskError',
      'exception.message': 'disk gone',
    });
    expect(exceptions[0]?.attributes?.['exception.stacktrace']).toContain('DiskError: disk gone');
  });

  // Fastify 4 rejects a promise of its own with ERR_HTTP_HEADERS_SENT here, unhandled, with or without tracewire.
  it.skipIf(_name === 'Fastify 4')(
    "records the handler's error, not Fastify's failed 500 after the app wrote to the raw response",
    async () => {
      const url = await start();
      await getUntilClosed(url, '/raw/throws-after-write');
      const s = await onlySpan();
      expect(s.status.code).toBe(SpanStatusCode.ERROR);
      expect(s.attributes['error.type']).toBe('ConflictError');
      const exceptions = s.events.filter((e) => e.name === 'exception');
      expect(exceptions.map((e) => e.attributes?.['exception.type'])).toEqual(['ConflictError']);
    },
  );

  it('records a reply stream failing before the first byte once, through the error handler', async () => {
    const url = await start();
    const res = await getUntilClosed(url, '/stream/fails-early');
    expect(res.status).toBe(500);
    const s = await onlySpan();
    expect(s.status.code).toBe(SpanStatusCode.ERROR);
    expect(s.attributes['http.response.status_code']).toBe(500);
    expect(s.attributes['error.type']).toBe('DiskError');
    expect(s.events.filter((e) => e.name === 'exception')).toHaveLength(1);
  });

  it('still ends a streamed reply the client walks away from as aborted, with no exception', async () => {
    const url = await start();
    await new Promise<void>((resolve) => {
      const req = httpGet(`${url}/stream/endless`, (res) => {
        res.once('data', () => req.destroy());
        res.on('error', () => {});
      });
      req.on('error', () => {});
      req.on('close', () => resolve());
    });
    const s = await onlySpan();
    expect(s.status.code).toBe(SpanStatusCode.ERROR);
    expect(s.attributes['error.type']).toBe('aborted');
    expect(s.events.filter((e) => e.name === 'exception')).toHaveLength(0);
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

  it('warns when registered inside an encapsulated plugin, whose parents its hooks cannot reach', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const root = fastify({ logger: false });
      await root.register(tracing, { tracer });
      await root.ready();
      await root.close();
      const nested = fastify({ logger: false });
      setApp(nested);
      await nested.register(
        async (api) => {
          await api.register(tracing, { tracer });
        },
        { prefix: '/api' },
      );
      await nested.ready();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.map((w) => (w as { code?: string }).code)).toEqual(['TRACEWIRE_FASTIFY_ENCAPSULATED']);
    expect(warnings[0]?.message).toContain('(prefix /api)');
  });

  it('rejects invalid options at registration, naming the option', async () => {
    const instance = fastify({ logger: false });
    setApp(instance);
    instance.register(tracing, { ignore: 'health' as never });
    await expect(instance.ready()).rejects.toThrow(/ignore must be/);
  });
});

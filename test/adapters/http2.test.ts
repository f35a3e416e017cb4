import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import { tracing as fastifyTracing } from '@tracewire/fastify';
import { tracing as koaTracing } from '@tracewire/koa';
import {
  configure,
  InMemoryExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  SpanKind,
  SpanStatusCode,
} from '@tracewire/node';
import fastify from 'fastify';
import Koa from 'koa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { failingBody } from '../fixtures/failing-body.js';

// The adapters on HTTP/2 (cleartext, prior knowledge): Fastify's own `http2: true`, and Koa on Node's
// compatibility API. The same server span as on HTTP/1.1, with the authority taken from `:authority`.

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

const exporter = new InMemoryExporter();
// Node warns once per process when a compatibility response's statusMessage is read (HTTP/2 has none).
const warnings: Error[] = [];
const onWarning = (warning: Error): void => {
  warnings.push(warning);
};

beforeAll(() => {
  configure({ serviceName: 'http2-test', processors: [new SimpleSpanProcessor(exporter)] });
  process.on('warning', onWarning);
});
afterAll(() => {
  process.off('warning', onWarning);
});
beforeEach(() => exporter.reset());

interface H2App {
  readonly port: number;
  /** Resolves when the `/slow` handler has started. */
  readonly slowStarted: Promise<void>;
  close(): Promise<void>;
}

type Factory = () => Promise<H2App>;

function signal(): { promise: Promise<void>; fire: () => void } {
  let fire = (): void => {};
  const promise = new Promise<void>((resolve) => {
    fire = resolve;
  });
  return { promise, fire };
}

const factories: [string, Factory][] = [
  [
    'fastify (http2: true)',
    async () => {
      const started = signal();
      const app = fastify({ http2: true });
      await app.register(fastifyTracing);
      app.get('/users/:id', async (req) => ({ id: (req.params as { id: string }).id }));
      app.get('/slow', async () => {
        started.fire();
        await new Promise((r) => setTimeout(r, 2000));
        return 'late';
      });
      app.get('/stream/fails-midway', (_req, reply) => {
        reply.type('text/plain').send(failingBody('part'));
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as AddressInfo;
      return { port, slowStarted: started.promise, close: () => app.close() };
    },
  ],
  [
    'koa (http2.createServer)',
    async () => {
      const started = signal();
      const app = new Koa();
      app.silent = true; // the failing body stream would be logged to stderr
      const router = new Router();
      app.use(koaTracing());
      router.get('/users/:id', (ctx) => {
        ctx.body = { id: ctx.params.id };
      });
      router.get('/slow', async (ctx) => {
        started.fire();
        await new Promise((r) => setTimeout(r, 2000));
        ctx.body = 'late';
      });
      router.get('/stream/fails-midway', (ctx) => {
        ctx.type = 'text/plain';
        ctx.body = failingBody('part');
      });
      app.use(router.routes());
      const server = http2.createServer(app.callback());
      const sessions = new Set<http2.ServerHttp2Session>();
      server.on('session', (session) => {
        sessions.add(session);
        session.on('close', () => sessions.delete(session));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      return {
        port,
        slowStarted: started.promise,
        close: () =>
          new Promise<void>((resolve) => {
            for (const session of sessions) session.destroy();
            server.close(() => resolve());
          }),
      };
    },
  ],
];

async function serverSpan(): Promise<ReadableSpan> {
  for (let i = 0; i < 400; i++) {
    const span = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
    if (span !== undefined) return span;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('no server span ended');
}

describe.each(factories)('%s', (_name, create) => {
  let app: H2App;
  let client: http2.ClientHttp2Session;

  beforeAll(async () => {
    app = await create();
    client = http2.connect(`http://127.0.0.1:${app.port}`);
  });
  afterAll(async () => {
    client.close();
    await app.close();
  });

  function get(
    path: string,
    headers: http2.OutgoingHttpHeaders = {},
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const stream = client.request({ ':path': path, ...headers });
      let status = 0;
      let body = '';
      stream.setEncoding('utf8');
      stream.on('response', (h) => {
        status = Number(h[':status']);
      });
      stream.on('data', (chunk: string) => {
        body += chunk;
      });
      stream.on('end', () => resolve({ status, body }));
      stream.on('error', reject);
      stream.end();
    });
  }

  it('names the span by route, continues the caller trace and reports HTTP/2', async () => {
    const res = await get('/users/7', { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` });
    expect(res).toEqual({ status: 200, body: '{"id":"7"}' });

    const span = await serverSpan();
    expect(span.name).toBe('GET /users/:id');
    expect(span.spanContext().traceId).toBe(TRACE_ID);
    expect(span.parentSpanId).toBe(PARENT_ID);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/users/:id',
      'url.path': '/users/7',
      'http.response.status_code': 200,
      'network.protocol.version': '2',
      'server.address': '127.0.0.1',
      'server.port': app.port,
    });
    // Let a warning emitted while the span ended reach its listeners (process.emitWarning defers them).
    await new Promise((r) => setImmediate(r));
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
  });

  it('records a body stream failing after the headers as its exception, not as a client abort', async () => {
    await new Promise<void>((resolve) => {
      const stream = client.request({ ':path': '/stream/fails-midway' });
      stream.on('error', () => {});
      stream.on('close', () => resolve());
      stream.resume();
      stream.end();
    });

    const span = await serverSpan();
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('DiskError');
    expect(span.events.filter((e) => e.name === 'exception')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 50));
    expect(exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER)).toHaveLength(1);
  });

  it('ends the span once, as an error, when the client resets the stream mid-request', async () => {
    const stream = client.request({ ':path': '/slow' });
    stream.on('error', () => {});
    stream.end();
    await app.slowStarted;
    stream.close(http2.constants.NGHTTP2_CANCEL);

    const span = await serverSpan();
    expect(span.name).toBe('GET /slow');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['http.response.status_code']).toBeUndefined();
    await new Promise((r) => setTimeout(r, 50));
    expect(exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER)).toHaveLength(1);
  });
});

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifyHttpProxy from '@fastify/http-proxy';
import { tracing as expressTracing } from '@tracewire/express';
import { tracing as fastifyTracing } from '@tracewire/fastify';
import {
  configure,
  InMemoryExporter,
  type ReadableSpan,
  type ServerTracingOptions,
  SimpleSpanProcessor,
  SpanKind,
} from '@tracewire/node';
import express from 'express';
import fastify from 'fastify';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// An API gateway built on a proxy library copies the incoming request's headers, trace headers included, onto its
// upstream call. The upstream must still see the gateway's hop: its parent is the gateway's client span, which is
// a child of the gateway's server span, all in the caller's trace.

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'gateway',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});

let upstream: Server;
let upstreamUrl: string;
const received: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    received.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ path: req.url }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
  await tracer.shutdown();
});
beforeEach(() => {
  exporter.reset();
  received.length = 0;
});

interface Gateway {
  url: string;
  close(): Promise<void>;
}

const gateways: [string, (options?: ServerTracingOptions) => Promise<Gateway>][] = [
  [
    'Express with http-proxy-middleware (node:http)',
    async (options) => {
      const app = express();
      app.use(expressTracing(options));
      app.use('/api', createProxyMiddleware({ target: upstreamUrl }));
      const server = createServer(app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      };
    },
  ],
  [
    'Fastify with @fastify/http-proxy (undici)',
    async (options) => {
      const app = fastify();
      await app.register(fastifyTracing, options ?? {});
      await app.register(fastifyHttpProxy, { upstream: upstreamUrl, prefix: '/api' });
      await app.listen({ port: 0, host: '127.0.0.1' });
      return {
        url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
        close: () => app.close(),
      };
    },
  ],
];

async function spansWhenBoth(): Promise<{ server: ReadableSpan; client: ReadableSpan }> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.kind === SpanKind.SERVER);
    const client = spans.find((s) => s.kind === SpanKind.CLIENT);
    if (server !== undefined && client !== undefined) return { server, client };
    if (Date.now() > deadline)
      throw new Error(`expected a server and a client span, got ${spans.length} spans`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.each(gateways)('%s', (_name, start) => {
  it("gives the upstream the gateway's client span as its parent, not the caller's span", async () => {
    const gateway = await start();
    try {
      const response = await fetch(`${gateway.url}/api/items/7`, {
        headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`, tracestate: 'caller=1' },
      });
      expect(response.status).toBe(200);
      await response.text();
      const { server, client } = await spansWhenBoth();
      expect(server.parentSpanId).toBe(CALLER_SPAN);
      expect(client.parentSpanId).toBe(server.spanContext().spanId);
      expect(client.spanContext().traceId).toBe(TRACE_ID);
      expect(client.attributes['url.full']).toBe(`${upstreamUrl}/items/7`);
      expect(received).toHaveLength(1);
      expect(received[0]!.traceparent).toBe(`00-${TRACE_ID}-${client.spanContext().spanId}-01`);
      // The caller's tracestate is the trace's, carried on by the gateway's spans.
      expect(received[0]!.tracestate).toBe('caller=1');
    } finally {
      await gateway.close();
    }
  });

  it("at a public edge (incomingContext 'link'), sends the upstream the gateway's new trace, not the caller's", async () => {
    const gateway = await start({ incomingContext: 'link' });
    try {
      const response = await fetch(`${gateway.url}/api/items/7`, {
        headers: { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` },
      });
      await response.text();
      const { server, client } = await spansWhenBoth();
      const traceId = server.spanContext().traceId;
      expect(traceId).not.toBe(TRACE_ID);
      expect(server.links.map((l) => l.context.traceId)).toEqual([TRACE_ID]);
      expect(received[0]!.traceparent).toBe(`00-${traceId}-${client.spanContext().spanId}-01`);
    } finally {
      await gateway.close();
    }
  });
});

import { request as httpRequest } from 'node:http';
import * as otelApi from '@opentelemetry/api';
import {
  configure,
  InMemoryExporter,
  type OpenTelemetryApiRegistration,
  type ReadableSpan,
  registerOpenTelemetryApi,
  type ServerTracingOptions,
  SimpleSpanProcessor,
  SpanKind,
  SpanStatusCode,
} from '@tracewire/node';
import supertest from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APPS, startEchoDownstream, type TestApp, waitFor } from './apps.js';

// One table of cases, run against Express 4/5, Koa 2/3 and Fastify 4/5 apps that declare the same routes.

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

const OPTIONS: ServerTracingOptions = {
  ignore: ['/health', '/internal/**'],
  captureHeaders: {
    request: ['x-request-id', 'authorization', 'cookie'],
    response: ['x-response-id', 'set-cookie'],
  },
};

const exporter = new InMemoryExporter();
let otelApiRegistration: OpenTelemetryApiRegistration | undefined;
let downstream: Awaited<ReturnType<typeof startEchoDownstream>>;
let downstreamUrl: string;

function serverSpans(): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
}

function serverSpan(): Promise<ReadableSpan> {
  return waitFor(() => serverSpans()[0], 'the server span');
}

interface Case {
  name: string;
  run(app: TestApp, slow: SlowSignals): Promise<void>;
}

interface SlowSignals {
  started: Promise<void>;
  answered: Promise<void>;
}

const propagationCases: [string, Record<string, string>][] = [
  ['W3C traceparent', { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` }],
  ['B3 single header', { b3: `${TRACE_ID}-${PARENT_ID}-1` }],
  ['B3 multi headers', { 'x-b3-traceid': TRACE_ID, 'x-b3-spanid': PARENT_ID, 'x-b3-sampled': '1' }],
  ['Jaeger uber-trace-id', { 'uber-trace-id': `${TRACE_ID}:${PARENT_ID}:0:1` }],
];

const CASES: Case[] = [
  ...propagationCases.map(
    ([format, headers]): Case => ({
      name: `continues the caller's trace from ${format}`,
      async run(app) {
        await supertest(app.url).get('/users/1').set(headers).expect(200);
        const span = await serverSpan();
        expect(span.spanContext().traceId).toBe(TRACE_ID);
        expect(span.parentSpanId).toBe(PARENT_ID);
      },
    }),
  ),
  {
    name: 'starts a new root trace without incoming headers',
    async run(app) {
      await supertest(app.url).get('/users/1').expect(200);
      const span = await serverSpan();
      expect(span.parentSpanId).toBeUndefined();
      expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
    },
  },
  {
    name: 'names the span METHOD /route/:template and records the stable HTTP attributes',
    async run(app) {
      await supertest(app.url)
        .get('/users/42?token=secret&page=2')
        .set('user-agent', 'tw-test/1')
        .expect(200);
      const span = await serverSpan();
      expect(span.name).toBe('GET /users/:id');
      expect(span.kind).toBe(SpanKind.SERVER);
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.attributes).toMatchObject({
        'http.request.method': 'GET',
        'http.route': '/users/:id',
        'http.response.status_code': 200,
        'url.path': '/users/42',
        'url.query': 'token=REDACTED&page=2',
        'url.scheme': 'http',
        'server.address': '127.0.0.1',
        'server.port': app.port,
        'network.protocol.version': '1.1',
        'user_agent.original': 'tw-test/1',
      });
      expect(String(span.attributes['client.address'])).toMatch(/127\.0\.0\.1$/);
      expect(span.attributes['error.type']).toBeUndefined();
    },
  },
  {
    name: 'includes every router mount prefix in the route template',
    async run(app) {
      await supertest(app.url).get('/api/v1/orders/7').expect(200);
      const span = await serverSpan();
      expect(span.name).toBe('GET /api/v1/orders/:orderId');
      expect(span.attributes['http.route']).toBe('/api/v1/orders/:orderId');
    },
  },
  {
    name: 'names an unmatched request by its method alone, never by its URL',
    async run(app) {
      await supertest(app.url).get('/no/such/path/123').expect(404);
      const span = await serverSpan();
      expect(span.name).toBe('GET');
      expect(span.attributes['http.route']).toBeUndefined();
      expect(span.attributes['http.response.status_code']).toBe(404);
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
    },
  },
  {
    name: 'leaves the status unset for a 4xx response',
    async run(app) {
      await supertest(app.url).get('/status/400').expect(400);
      const span = await serverSpan();
      expect(span.status.code).toBe(SpanStatusCode.UNSET);
      expect(span.attributes['error.type']).toBeUndefined();
    },
  },
  {
    name: 'marks a 5xx response as an error with error.type set to the status code',
    async run(app) {
      await supertest(app.url).get('/status/503').expect(503);
      const span = await serverSpan();
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes['error.type']).toBe('503');
      expect(span.attributes['http.response.status_code']).toBe(503);
    },
  },
  ...(['sync', 'async'] as const).map(
    (kind): Case => ({
      name: `records a ${kind} exception thrown by the handler as an exception event`,
      async run(app) {
        await supertest(app.url).get(`/throw-${kind}`).expect(500);
        const span = await serverSpan();
        expect(span.name).toBe(`GET /throw-${kind}`);
        expect(span.status.code).toBe(SpanStatusCode.ERROR);
        expect(span.attributes['error.type']).toBe('BoomError');
        const events = span.events.filter((e) => e.name === 'exception');
        expect(events).toHaveLength(1);
        expect(events[0]?.attributes).toMatchObject({
          'exception.type': 'BoomError',
          'exception.message': `${kind} boom`,
        });
        expect(String(events[0]?.attributes?.['exception.stacktrace'])).toContain(`${kind} boom`);
      },
    }),
  ),
  {
    name: 'records nothing for an ignored path',
    async run(app) {
      await supertest(app.url)
        .get('/health')
        .set('traceparent', `00-${TRACE_ID}-${PARENT_ID}-01`)
        .expect(200);
      await supertest(app.url).get('/users/1').expect(200); // a later span proves the first had time to end
      await serverSpan();
      expect(serverSpans().map((s) => s.name)).toEqual(['GET /users/:id']);
    },
  },
  {
    name: 'captures allow-listed headers but never authorization, cookie or set-cookie',
    async run(app) {
      await supertest(app.url)
        .get('/headers')
        .set('x-request-id', 'req-1')
        .set('authorization', 'Bearer secret')
        .set('cookie', 'session=secret')
        .expect(200);
      const span = await serverSpan();
      expect(span.attributes['http.request.header.x-request-id']).toEqual(['req-1']);
      expect(span.attributes['http.response.header.x-response-id']).toEqual(['r1']);
      expect(span.attributes['http.request.header.authorization']).toBeUndefined();
      expect(span.attributes['http.request.header.cookie']).toBeUndefined();
      expect(span.attributes['http.response.header.set-cookie']).toBeUndefined();
    },
  },
  {
    name: 'captures no headers that are not allow-listed',
    async run(app) {
      await supertest(app.url).get('/users/1').set('x-other', 'v').expect(200);
      const span = await serverSpan();
      expect(Object.keys(span.attributes).filter((k) => k.includes('.header.'))).toEqual([]);
    },
  },
  {
    name: 'makes the server span the active span inside the handler',
    async run(app) {
      const res = await supertest(app.url).get('/active').expect(200);
      const span = await serverSpan();
      const { traceId, spanId } = span.spanContext();
      // @opentelemetry/api code in the handler sees the same span.
      expect(res.body).toEqual({ traceId, spanId, apiSpanId: spanId });
    },
  },
  {
    name: 'keeps the server span active in a handler that reads a request body',
    async run(app) {
      const res = await supertest(app.url).post('/echo').send({ hello: 'world' }).expect(200);
      const span = await serverSpan();
      expect(res.body.spanId).toBe(span.spanContext().spanId);
      expect(res.body.apiSpanId).toBe(span.spanContext().spanId);
    },
  },
  {
    name: 'makes an outgoing fetch from the handler a child span and sends its traceparent',
    async run(app) {
      const res = await supertest(app.url)
        .get('/outgoing')
        .query({ to: downstreamUrl })
        .set('traceparent', `00-${TRACE_ID}-${PARENT_ID}-01`)
        .expect(200);
      const server = await serverSpan();
      const client = await waitFor(
        () => exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT),
        'the client span',
      );
      expect(client.parentSpanId).toBe(server.spanContext().spanId);
      expect(client.spanContext().traceId).toBe(TRACE_ID);
      expect(res.body.traceparent).toBe(`00-${TRACE_ID}-${client.spanContext().spanId}-01`);
    },
  },
  {
    name: "passes the caller's trace on from an ignored path while recording nothing",
    async run(app) {
      const res = await supertest(app.url)
        .get('/internal/outgoing')
        .query({ to: downstreamUrl })
        .set('traceparent', `00-${TRACE_ID}-${PARENT_ID}-01`)
        .expect(200);
      // The caller's own context, unchanged: no span of this service stands between it and the next one.
      expect(String(res.body.traceparent)).toBe(`00-${TRACE_ID}-${PARENT_ID}-01`);
      await new Promise((r) => setTimeout(r, 20));
      // Before: the outgoing call's CLIENT span was recorded under the caller's sampled context.
      expect(exporter.getFinishedSpans()).toEqual([]);
    },
  },
  {
    name: 'records the error of a body stream that fails after the headers',
    async run(app) {
      // Express (through pipeline), Koa 3 and Fastify destroy the response; Koa 2 leaves it open until the client
      // gives up.
      await fetch(`${app.url}/stream-fails`, { signal: AbortSignal.timeout(500) })
        .then((r) => r.text())
        .catch(() => undefined);
      const span = await serverSpan();
      expect(span.name).toBe('GET /stream-fails');
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes['error.type']).toBe('BoomError');
      const events = span.events.filter((e) => e.name === 'exception');
      expect(events).toHaveLength(1);
      expect(events[0]?.attributes?.['exception.message']).toBe('body boom');
      await new Promise((r) => setTimeout(r, 20));
      expect(serverSpans()).toHaveLength(1);
    },
  },
  {
    name: 'ends the span exactly once when the client aborts',
    async run(app, slow) {
      const req = httpRequest(`${app.url}/slow`);
      req.on('error', () => {});
      req.end();
      await slow.started;
      req.destroy();
      const span = await serverSpan();
      expect(span.name).toBe('GET /slow');
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes['error.type']).toBe('aborted');
      await slow.answered; // the handler answers after the abort; that must not end the span again
      await new Promise((r) => setTimeout(r, 20));
      expect(serverSpans()).toHaveLength(1);
    },
  },
];

beforeAll(async () => {
  configure({ processors: [new SimpleSpanProcessor(exporter)], exporters: 'none', shutdownOnSignals: false });
  otelApiRegistration = registerOpenTelemetryApi(otelApi);
  downstream = await startEchoDownstream();
  downstreamUrl = downstream.url;
});

afterAll(async () => {
  otelApiRegistration?.unregister();
  await downstream?.close();
});

describe.each(APPS)('$name', (factory) => {
  let app: TestApp;
  let slow: SlowSignals;
  let signals: { started: () => void; answered: () => void };

  beforeAll(async () => {
    app = await factory.create(OPTIONS, {
      started: () => signals.started(),
      answered: () => signals.answered(),
    });
  });

  afterAll(() => app.close());

  beforeEach(() => {
    exporter.reset();
    let started = (): void => {};
    let answered = (): void => {};
    slow = {
      started: new Promise<void>((r) => {
        started = r;
      }),
      answered: new Promise<void>((r) => {
        answered = r;
      }),
    };
    signals = { started, answered };
  });

  it.each(CASES)('$name', ({ run }) => run(app, slow));
});

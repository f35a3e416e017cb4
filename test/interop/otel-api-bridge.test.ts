import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as api from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { tracing } from '@tracewire/express';
import {
  configure,
  getActiveSpan,
  InMemoryExporter,
  type ReadableSpan,
  registerOpenTelemetryApi,
  SimpleSpanProcessor,
  SpanKind,
  SpanStatusCode,
} from '@tracewire/node';
import express from 'express';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Code written against @opentelemetry/api (an app's own spans, libraries that trace through the API) records into
// tracewire once it is registered: its spans join the request's trace and its context reaches outgoing calls.

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'otel-api-bridge',
  propagators: 'tracecontext,baggage,b3multi',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});
let registration = registerOpenTelemetryApi(api);

const received: http.IncomingHttpHeaders[] = [];
const downstream = http.createServer((req, res) => {
  received.push(req.headers);
  res.end('{}');
});

const library = api.trace.getTracer('orders-lib', '2.1.0');
const app = express();
app.use(tracing());
app.get('/orders/:id', async (req, res) => {
  const active = api.trace.getActiveSpan()?.spanContext();
  const tenant = api.propagation.getActiveBaggage()?.getEntry('tenant');
  const baggage = { value: tenant?.value, metadata: tenant?.metadata?.toString() };
  await library.startActiveSpan('load order', async (span) => {
    span.setAttribute('order.id', req.params.id);
    await fetch(`${downstreamUrl}/stock`);
    span.end();
  });
  const carrier: Record<string, string> = {};
  api.propagation.inject(api.context.active(), carrier);
  res.json({ active, baggage, carrier });
});
const server = http.createServer(app);
let base = '';
let downstreamUrl = '';

async function listen(s: http.Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  base = await listen(server);
  downstreamUrl = await listen(downstream);
});
afterAll(async () => {
  registration.unregister();
  await tracer.shutdown();
  for (const s of [server, downstream]) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});
beforeEach(() => {
  exporter.reset();
  received.length = 0;
});

const byName = (name: string): ReadableSpan => {
  const span = exporter.getFinishedSpans().find((s) => s.name === name);
  if (span === undefined) throw new Error(`no span named ${name}`);
  return span;
};

const CALLER = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('registerOpenTelemetryApi, inside a traced Express request', () => {
  it("shows the request's server span as the API's active span, and parents the API's spans on it", async () => {
    const response = await fetch(`${base}/orders/7`, {
      headers: { traceparent: `00-${CALLER}-00f067aa0ba902b7-01`, baggage: 'tenant=acme;ttl=60' },
    });
    const body = (await response.json()) as {
      active: { traceId: string; spanId: string };
      baggage: { value?: string; metadata?: string };
      carrier: Record<string, string>;
    };
    await new Promise((r) => setTimeout(r, 20));

    const serverSpan = byName('GET /orders/:id');
    const own = byName('load order');
    const client = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT);
    expect(body.active).toMatchObject({ traceId: CALLER, spanId: serverSpan.spanContext().spanId });
    expect(own.parentSpanId).toBe(serverSpan.spanContext().spanId);
    expect(own.spanContext().traceId).toBe(CALLER);
    expect(own.attributes['order.id']).toBe('7');
    expect(own.scope).toEqual({ name: 'orders-lib', version: '2.1.0' });
    expect(serverSpan.scope.name).toBe('@tracewire/node');
    // The fetch made inside the API's active span is its child, and carries it downstream.
    expect(client?.parentSpanId).toBe(own.spanContext().spanId);
    expect(received[0]?.traceparent).toBe(`00-${CALLER}-${client?.spanContext().spanId}-01`);
    // The API's propagator writes tracewire's formats, with the request's baggage.
    expect(body.carrier.traceparent).toBe(`00-${CALLER}-${serverSpan.spanContext().spanId}-01`);
    expect(body.carrier.baggage).toBe('tenant=acme;ttl=60');
    // The API's active baggage is the request's, metadata included.
    expect(body.baggage).toEqual({ value: 'acme', metadata: 'ttl=60' });
  });

  it("keeps a B3 debug caller's debug flag through the API's span to its outgoing call", async () => {
    await fetch(`${base}/orders/8`, {
      headers: { 'x-b3-traceid': CALLER, 'x-b3-spanid': '00f067aa0ba902b7', 'x-b3-flags': '1' },
    });
    await new Promise((r) => setTimeout(r, 20));
    const stock = received.find((h) => h['x-b3-traceid'] === CALLER);
    const client = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT);
    expect(client?.parentSpanId).toBe(byName('load order').spanContext().spanId);
    expect(stock?.['x-b3-spanid']).toBe(client?.spanContext().spanId);
    expect(stock?.['x-b3-flags']).toBe('1');
  });
});

describe('registerOpenTelemetryApi, in a request the server options ignore', () => {
  it('records nothing the API starts there, nested spans included, and still passes the caller on', async () => {
    const ignoring = express();
    ignoring.use(tracing({ ignore: ['/health'] }));
    ignoring.get('/health', (_req, res) => {
      library.startActiveSpan('outer', (outer) => {
        // Started in the API context `outer` runs in: before, it lost the request's "records nothing".
        library.startActiveSpan('inner', (inner) => inner.end());
        outer.end();
      });
      const carrier: Record<string, string> = {};
      api.propagation.inject(api.context.active(), carrier);
      res.json(carrier);
    });
    const ignoringServer = http.createServer(ignoring);
    const url = await listen(ignoringServer);
    try {
      const res = await fetch(`${url}/health`, {
        headers: { traceparent: `00-${CALLER}-00f067aa0ba902b7-01` },
      });
      expect((await res.json()).traceparent).toBe(`00-${CALLER}-00f067aa0ba902b7-01`);
      await new Promise((r) => setTimeout(r, 20));
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual([]);
    } finally {
      ignoringServer.close();
    }
  });
});

describe('registerOpenTelemetryApi, outside any request', () => {
  it('keeps values set in an API context through context.with and await', async () => {
    const key = api.createContextKey('tenant');
    const seen = await api.context.with(api.context.active().setValue(key, 'acme'), async () => {
      await new Promise((r) => setTimeout(r, 5));
      return api.context.active().getValue(key);
    });
    expect(seen).toBe('acme');
    expect(api.context.active().getValue(key)).toBeUndefined();
  });

  it("makes the API's active span tracewire's, for tracewire's own API and outgoing calls", async () => {
    await library.startActiveSpan('job', async (span) => {
      expect(getActiveSpan()?.spanContext().spanId).toBe(span.spanContext().spanId);
      const child = tracer.startSpan('native child');
      child.end();
      await fetch(`${downstreamUrl}/job`);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: 'stock low' });
      span.end();
    });
    const job = byName('job');
    expect(byName('native child').parentSpanId).toBe(job.spanContext().spanId);
    expect(job.status).toEqual({ code: SpanStatusCode.ERROR, message: 'stock low' });
    expect(received[0]?.traceparent).toMatch(new RegExp(`^00-${job.spanContext().traceId}-`));
  });

  it('continues a context extracted through the API, remote parent, trace state and baggage included', async () => {
    const extracted = api.propagation.extract(api.ROOT_CONTEXT, {
      traceparent: `00-${CALLER}-00f067aa0ba902b7-01`,
      tracestate: 'vendor=x',
      baggage: 'tenant=acme',
    });
    expect(api.trace.getSpanContext(extracted)).toMatchObject({
      traceId: CALLER,
      spanId: '00f067aa0ba902b7',
      isRemote: true,
    });
    expect(api.propagation.getBaggage(extracted)?.getEntry('tenant')?.value).toBe('acme');
    await api.context.with(extracted, async () => {
      await fetch(`${downstreamUrl}/consumer`);
      library.startSpan('consume', { kind: api.SpanKind.CONSUMER }).end();
    });
    const consume = byName('consume');
    expect(consume.kind).toBe(SpanKind.CONSUMER);
    expect(consume.parentSpanId).toBe('00f067aa0ba902b7');
    expect(consume.parentIsRemote).toBe(true);
    expect(received[0]?.traceparent).toMatch(new RegExp(`^00-${CALLER}-`));
    expect(received[0]?.tracestate).toBe('vendor=x');
    expect(received[0]?.baggage).toBe('tenant=acme');
  });

  it('keeps a B3 debug flag extracted through the API when it injects through the API again', () => {
    const extracted = api.propagation.extract(api.ROOT_CONTEXT, {
      'x-b3-traceid': CALLER,
      'x-b3-spanid': '00f067aa0ba902b7',
      'x-b3-flags': '1',
    });
    const carrier: Record<string, string> = {};
    api.propagation.inject(extracted, carrier);
    // Before: the debug flag was lost converting the API's span context back (x-b3-sampled: 1 instead).
    expect(carrier['x-b3-flags']).toBe('1');
    expect(carrier['x-b3-spanid']).toBe('00f067aa0ba902b7');
  });

  it('starts a new trace for `root: true` and for a span started with no active context', () => {
    library.startActiveSpan('outer', (outer) => {
      library.startSpan('detached', { root: true }).end();
      outer.end();
    });
    expect(byName('detached').parentSpanId).toBeUndefined();
    expect(byName('detached').spanContext().traceId).not.toBe(byName('outer').spanContext().traceId);
    expect(byName('outer').parentSpanId).toBeUndefined();
  });

  it('records nothing and sends no headers under @opentelemetry/core suppressTracing', async () => {
    await api.context.with(suppressTracing(api.context.active()), async () => {
      const span = library.startSpan('suppressed');
      expect(span.isRecording()).toBe(false);
      span.end();
      await fetch(`${downstreamUrl}/quiet`);
      const carrier: Record<string, string> = {};
      api.propagation.inject(api.context.active(), carrier);
      expect(carrier).toEqual({});
    });
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(received[0]?.traceparent).toBeUndefined();
  });

  it('reads start and end times given as HrTime, Date and performance.now()', () => {
    const start = Math.floor(Date.now() / 1000) * 1000 - 60_000 + 250; // a whole second, then 250 ms
    const span = library.startSpan('timed', { startTime: [Math.floor(start / 1000), 250_000_000 + 500_000] });
    span.addEvent('checkpoint', new Date(start + 5));
    span.addEvent('with attributes', { step: 2 }, start + 6);
    span.end(performance.now());
    const timed = byName('timed');
    expect(timed.startTime).toBeCloseTo(start + 0.5, 6);
    expect(timed.events.map((e) => [e.name, e.time])).toEqual([
      ['checkpoint', start + 5],
      ['with attributes', start + 6],
    ]);
    expect(timed.events[1]?.attributes).toEqual({ step: 2 });
    expect(Math.abs(timed.endTime - Date.now())).toBeLessThan(1000);
  });

  it('parents on a span context wrapped by the API (another process, a message header)', async () => {
    const parent = api.trace.wrapSpanContext({
      traceId: CALLER,
      spanId: 'b7ad6b7169203331',
      traceFlags: api.TraceFlags.SAMPLED,
      traceState: api.createTraceState('vendor=y'),
    });
    await api.context.with(api.trace.setSpan(api.ROOT_CONTEXT, parent), () =>
      fetch(`${downstreamUrl}/wrapped`),
    );
    const client = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT);
    expect(client?.parentSpanId).toBe('b7ad6b7169203331');
    expect(received[0]?.traceparent).toBe(`00-${CALLER}-${client?.spanContext().spanId}-01`);
    expect(received[0]?.tracestate).toBe('vendor=y');
  });
});

describe('registerOpenTelemetryApi, given values the API would not make', () => {
  it('never throws into the caller: odd contexts, links and carriers give spans that record nothing', () => {
    const errorsBefore = tracer.stats.instrumentationErrors;
    const odd = {} as api.Context;
    expect(api.context.with(odd, () => 'ran')).toBe('ran');
    expect(library.startSpan('odd parent', undefined, odd).isRecording()).toBe(false);
    expect(() => api.propagation.inject(odd, {})).not.toThrow();
    expect(tracer.stats.instrumentationErrors - errorsBefore).toBe(3);
    // A link that is not one is left out; the span is recorded.
    const badLink = library.startSpan('bad link', { links: [{ context: null as never }] });
    badLink.addLink({ context: undefined as never });
    badLink.end();
    expect(byName('bad link').links).toEqual([]);
  });
});

describe('registerOpenTelemetryApi, registration', () => {
  it('refuses anything but the API module, with a message that says what to pass', () => {
    expect(() => registerOpenTelemetryApi({} as never)).toThrow(/pass the @opentelemetry\/api module/);
  });

  it('runs the callback of startActiveSpan as the SDK does: the fourth argument, whatever follows it', () => {
    const returned = library.startActiveSpan(
      'five arguments',
      {},
      api.context.active(),
      (span: api.Span) => {
        span.end();
        return 'fourth';
      },
      // @ts-expect-error: one argument more than the API declares, which the SDK ignores
      () => 'fifth',
    );
    expect(returned).toBe('fourth');
    // Exported: the span the fourth argument ended.
    expect(byName('five arguments').name).toBe('five arguments');
  });

  it("flushes tracewire through the API's provider, as the Lambda instrumentation does before it returns", async () => {
    const provider = api.trace.getTracerProvider() as api.TracerProvider & {
      getDelegate(): { forceFlush?: () => Promise<void> };
    };
    const flush = vi.spyOn(tracer, 'forceFlush');
    try {
      await expect(provider.getDelegate().forceFlush?.()).resolves.toBeUndefined();
      expect(flush).toHaveBeenCalledTimes(1);
    } finally {
      flush.mockRestore();
    }
  });

  it('records through tracers a library got from the API before tracewire was registered', () => {
    registration.unregister();
    const early = api.trace.getTracer('early-lib', '0.1.0');
    expect(early.startSpan('before').isRecording()).toBe(false);
    registration = registerOpenTelemetryApi(api);
    early.startSpan('after').end();
    expect(byName('after').scope).toEqual({ name: 'early-lib', version: '0.1.0' });
  });

  it('refuses to register beside another tracer provider, and leaves that one in place', () => {
    registration.unregister();
    const other = { getTracer: () => api.trace.getTracer('unused') };
    api.trace.setGlobalTracerProvider(other as api.TracerProvider);
    try {
      expect(() => registerOpenTelemetryApi(api)).toThrow(/already has a global tracer provider/);
      expect((api.trace.getTracerProvider() as api.ProxyTracerProvider).getDelegate()).toBe(other);
      // The context manager taken before the refusal was given back: the API's default is a no-op again.
      const key = api.createContextKey('k');
      expect(
        api.context.with(api.ROOT_CONTEXT.setValue(key, 1), () => api.context.active().getValue(key)),
      ).toBe(undefined);
    } finally {
      api.trace.disable();
      registration = registerOpenTelemetryApi(api);
    }
  });
});

import { createServer, type IncomingHttpHeaders } from 'node:http';
import * as api from '@opentelemetry/api';
import { Baggage } from '@tracewire/core';
import { tracing } from '@tracewire/express';
import {
  configure,
  getTracer,
  InMemoryExporter,
  registerOpenTelemetryApi,
  runInContext,
  SimpleSpanProcessor,
  SpanKind,
  type TracewireOptions,
} from '@tracewire/node';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, waitFor } from './adapters/apps.js';

// Baggage a caller sends (tenant, user, feature flag) can be recorded on the spans of every service it reaches, so a
// backend can filter a trace's spans by it. Only the keys the app names are recorded: baggage comes from callers.

// A shut-down exporter refuses spans, so each test gets its own.
let exporter = new InMemoryExporter();

function setUp(options: TracewireOptions = {}) {
  exporter = new InMemoryExporter();
  return configure({
    serviceName: 'baggage-attributes',
    processors: [new SimpleSpanProcessor(exporter)],
    shutdownOnSignals: false,
    ...options,
  });
}
afterEach(() => getTracer().shutdown());

async function requestThroughApp(baggage: string): Promise<IncomingHttpHeaders> {
  let downstreamHeaders: IncomingHttpHeaders = {};
  const downstream = await listen(
    createServer((req, res) => {
      downstreamHeaders = req.headers;
      res.end('{}');
    }),
  );
  const app = express();
  app.use(tracing());
  app.get('/orders/:id', async (_req, res) => {
    await getTracer().startActiveSpan('load order', async (span) => {
      await (await fetch(`${downstream.url}/stock`)).text();
      span.end();
    });
    res.json({ ok: true });
  });
  const server = await listen(createServer(app));
  try {
    const response = await fetch(`${server.url}/orders/7`, {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', baggage },
    });
    await response.text();
    await waitFor(() => (exporter.getFinishedSpans().length === 3 ? true : undefined), 'three spans');
    return downstreamHeaders;
  } finally {
    await server.close();
    await downstream.close();
  }
}

describe('baggageAttributes', () => {
  it("records the named baggage keys on the server span, the app's spans and the client spans", async () => {
    setUp({ baggageAttributes: ['tenant.id', 'user.id'] });
    const forwarded = await requestThroughApp('tenant.id=acme,user.id=u-42,session=secret');
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.kind).sort()).toEqual(
      [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT].sort(),
    );
    for (const span of spans) {
      expect(span.attributes).toMatchObject({ 'tenant.id': 'acme', 'user.id': 'u-42' });
      expect(span.attributes.session).toBeUndefined();
    }
    // Recording it changes nothing that is propagated.
    expect(forwarded.baggage).toBe('tenant.id=acme,user.id=u-42,session=secret');
  });

  it("records them on spans started through @opentelemetry/api too, from the API context's baggage", async () => {
    setUp({ baggageAttributes: ['tenant.id'] });
    const registration = registerOpenTelemetryApi(api);
    try {
      const withCallerBaggage = api.propagation.setBaggage(
        api.context.active(),
        api.propagation.createBaggage({ 'tenant.id': { value: 'acme' } }),
      );
      api.context.with(withCallerBaggage, () => api.trace.getTracer('lib').startSpan('library work').end());
      expect(exporter.getFinishedSpans().map((s) => [s.name, s.attributes['tenant.id']])).toEqual([
        ['library work', 'acme'],
      ]);
    } finally {
      registration.unregister();
    }
  });

  it('records nothing from baggage unless keys are named', async () => {
    setUp();
    await requestThroughApp('tenant.id=acme');
    for (const span of exporter.getFinishedSpans()) expect(span.attributes['tenant.id']).toBeUndefined();
  });

  it('reads the keys from TRACEWIRE_BAGGAGE_ATTRIBUTES when the option is not given', async () => {
    process.env.TRACEWIRE_BAGGAGE_ATTRIBUTES = ' tenant.id , ';
    try {
      expect(setUp().baggageAttributes).toEqual(['tenant.id']);
      expect(setUp({ baggageAttributes: ['user.id'] }).baggageAttributes).toEqual(['user.id']);
    } finally {
      delete process.env.TRACEWIRE_BAGGAGE_ATTRIBUTES;
    }
  });

  it('keeps an attribute the span was started with over the baggage value', () => {
    const tracer = setUp({ baggageAttributes: ['tenant.id'] });
    runInContext(
      { span: undefined, baggage: Baggage.empty().set('tenant.id', 'acme'), suppressed: false },
      () => {
        tracer.startSpan('own', { attributes: { 'tenant.id': 'set-by-code' } }).end();
        tracer.startSpan('from baggage').end();
      },
    );
    expect(exporter.getFinishedSpans().map((s) => [s.name, s.attributes['tenant.id']])).toEqual([
      ['own', 'set-by-code'],
      ['from baggage', 'acme'],
    ]);
  });

  it.each([
    ['tenant.id', 'baggageAttributes must be an array of baggage keys'],
    [['tenant.id', ''], 'baggageAttributes[1] must be a non-empty string'],
  ])('rejects %o at configuration', (value, message) => {
    expect(() => setUp({ baggageAttributes: value as string[] })).toThrow(TypeError);
    expect(() => setUp({ baggageAttributes: value as string[] })).toThrow(message);
  });
});

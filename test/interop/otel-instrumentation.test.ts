import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import * as api from '@opentelemetry/api';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { tracing } from '@tracewire/express';
import {
  configure,
  InMemoryExporter,
  type ReadableSpan,
  registerOpenTelemetryApi,
  SimpleSpanProcessor,
  SpanKind,
} from '@tracewire/node';
import type Express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// OpenTelemetry's instrumentation libraries trace through @opentelemetry/api. With tracewire registered behind the
// API, one of them (here the Express instrumentation, which records each middleware and handler) adds its spans
// under tracewire's server span, in the same trace and export.

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'otel-instrumentation',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
});
const registration = registerOpenTelemetryApi(api);
const disableInstrumentations = registerInstrumentations({
  instrumentations: [new ExpressInstrumentation()],
});

// Required, not imported, after the instrumentation is registered: it patches Express as it is required.
const express = createRequire(import.meta.url)('express') as typeof Express;
const app = express();
app.use(tracing());
app.use(function loadUser(_req, _res, next) {
  setTimeout(next, 2);
});
app.get('/users/:id', (req, res) => {
  res.json({ id: req.params.id });
});
const server = http.createServer(app);
let base = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  disableInstrumentations();
  registration.unregister();
  await tracer.shutdown();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('an OpenTelemetry instrumentation library on tracewire', () => {
  it("records the Express instrumentation's middleware and handler spans under tracewire's server span", async () => {
    const response = await fetch(`${base}/users/7`, {
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    expect(response.status).toBe(200);
    await new Promise((r) => setTimeout(r, 20));

    const spans = exporter.getFinishedSpans();
    const serverSpan = spans.find((s) => s.kind === SpanKind.SERVER) as ReadableSpan;
    expect(serverSpan.name).toBe('GET /users/:id');
    const instrumented = spans.filter((s) => s.scope.name === '@opentelemetry/instrumentation-express');
    expect(instrumented.map((s) => s.name).sort()).toEqual(['middleware - loadUser', 'request handler']);
    for (const span of instrumented) {
      expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(span.parentSpanId).toBe(serverSpan.spanContext().spanId);
    }
    expect(instrumented.find((s) => s.name === 'request handler')?.attributes['http.route']).toBe(
      '/users/:id',
    );
  });
});

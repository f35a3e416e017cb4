import * as api from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor as SdkSimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import {
  configure,
  InMemoryExporter,
  registerOpenTelemetryApi,
  SimpleSpanProcessor,
  SpanKind,
} from '@tracewire/node';
import { expect, it, vi } from 'vitest';

// OpenTelemetry's instrumentation libraries do not end every span they start (instrumentation-pg: cursor and stream
// queries; instrumentation-ioredis: a command on a closed connection). OpenTelemetry's SDK forgets such a span.

it("leaves a span an instrumentation library never ends out of shutdown's export, as OpenTelemetry's SDK does", async () => {
  const exporter = new InMemoryExporter();
  const tracer = configure({
    serviceName: 'otel-api-unended',
    processors: [new SimpleSpanProcessor(exporter)],
    shutdownOnSignals: false,
    instrumentOutgoing: false,
  });
  const registration = registerOpenTelemetryApi(api);
  try {
    api.trace.getTracer('@opentelemetry/instrumentation-pg', '0.76.0').startSpan('pg.query:SELECT', {
      kind: api.SpanKind.CLIENT,
    });
    // tracewire's own CLIENT spans still end at shutdown, as calls still in flight.
    tracer.startSpan('GET', { kind: SpanKind.CLIENT });
    await tracer.shutdown();
  } finally {
    registration.unregister();
  }
  // Before: the library's span was held until shutdown, then exported as a failed span ('shutdown') that lasted
  // the process's life; with 8192 of them held, requests in flight at shutdown lost their own spans.
  expect(exporter.getFinishedSpans().map((span) => [span.name, span.attributes['error.type']])).toEqual([
    ['GET', 'shutdown'],
  ]);

  const sdkExporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SdkSimpleSpanProcessor(sdkExporter)] });
  provider
    .getTracer('@opentelemetry/instrumentation-pg')
    .startSpan('pg.query:SELECT', { kind: api.SpanKind.CLIENT });
  await provider.shutdown();
  expect(sdkExporter.getFinishedSpans()).toEqual([]);
});

it('a tracer configure() replaced still waits for, and exports, spans such libraries end afterwards', async () => {
  const exporter = new InMemoryExporter();
  const quiet = { shutdownOnSignals: false, instrumentOutgoing: false } as const;
  configure({ ...quiet, processors: [new SimpleSpanProcessor(exporter)] });
  const registration = registerOpenTelemetryApi(api);
  const next = (() => {
    const request = api.trace
      .getTracer('orders-app')
      .startSpan('GET /orders/:id', { kind: api.SpanKind.SERVER });
    // A background job's query, in no request: only the replaced tracer's own wait keeps it.
    const query = api.trace
      .getTracer('@opentelemetry/instrumentation-pg')
      .startSpan('pg.query:SELECT', { kind: api.SpanKind.CLIENT });
    const replacement = configure({ ...quiet, processors: [] });
    setTimeout(() => request.end(), 100);
    setTimeout(() => query.end(), 300);
    return replacement;
  })();
  try {
    // A first fix shut the replaced tracer down at once (nothing of its own in flight), and these were lost; a
    // second one kept only the SERVER span.
    await vi.waitFor(() =>
      expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual([
        'GET /orders/:id',
        'pg.query:SELECT',
      ]),
    );
  } finally {
    registration.unregister();
    await next.shutdown();
  }
});

import { ExportResultCode as OtelResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as OtelHttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtelProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type {
  ReadableSpan as OtelReadableSpan,
  SpanExporter as OtelSpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { OtlpHttpExporter, ZipkinExporter } from '@tracewire/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startViewer, type Viewer } from '../src/index.js';
import { otelSpans } from './fixtures/otel-spans.js';
import { LINKED_TRACE_ID, TRACE_ID, tracewireSpans } from './fixtures/tracewire-spans.js';

let viewer: Viewer;

beforeEach(async () => {
  viewer = await startViewer({ uiPort: 0, otlpPort: 0, zipkinPort: 0, database: ':memory:' });
});

afterEach(async () => {
  await viewer.close();
});

function otelExport(exporter: OtelSpanExporter, spans: OtelReadableSpan[]): Promise<number> {
  return new Promise((resolve) => exporter.export(spans, (result) => resolve(result.code)));
}

function expectTracewireTrace(): void {
  const trace = viewer.store.getTrace(TRACE_ID)!;
  expect(trace.spans.map((s) => [s.service, s.name, s.kind])).toEqual([
    ['shop', 'GET /orders/:id', 'server'],
    ['shop', 'GET', 'client'],
    ['stock', 'GET /stock/:sku', 'server'],
  ]);
  expect(trace.durationUs).toBe(40_500);
  expect(trace.spans[2]).toMatchObject({ statusCode: 2, statusMessage: 'warehouse down' });
}

describe('OTLP/HTTP receiver with tracewire exporters', () => {
  it.each([
    ['http/protobuf', 'none'],
    ['http/protobuf', 'gzip'],
    ['http/json', 'none'],
    ['http/json', 'gzip'],
  ] as const)(
    'stores what OtlpHttpExporter sends as %s with %s compression',
    async (protocol, compression) => {
      const exporter = new OtlpHttpExporter({ url: `${viewer.urls.otlp}/v1/traces`, protocol, compression });
      const result = await exporter.export(tracewireSpans());
      await exporter.shutdown();
      expect(result).toMatchObject({ code: 0 });
      expect(result.rejectedSpans).toBeUndefined();
      expectTracewireTrace();
      const server = viewer.store.getTrace(TRACE_ID)!.spans[0]!;
      expect(server.attributes).toMatchObject({ 'retry.delays': [1, 2, 3], 'feature.enabled': true });
      expect(server.events).toEqual([
        { timeUs: 1_732_550_000_002_500, name: 'cache miss', attributes: { 'cache.key': 'orders:42' } },
      ]);
      expect(server.links).toMatchObject([{ traceId: LINKED_TRACE_ID, spanId: 'a2fb4a1d1a96d312' }]);
    },
  );
});

describe('Zipkin receiver with the tracewire exporter', () => {
  it('stores what ZipkinExporter sends, with services, kinds, parents and error status', async () => {
    const exporter = new ZipkinExporter({ url: viewer.urls.zipkin });
    const result = await exporter.export(tracewireSpans());
    await exporter.shutdown();
    expect(result).toMatchObject({ code: 0 });
    expectTracewireTrace();
    const [server, client] = viewer.store.getTrace(TRACE_ID)!.spans;
    expect(client!.parentSpanId).toBe(server!.spanId);
    expect(server!.events).toEqual([
      { timeUs: 1_732_550_000_002_500, name: 'cache miss', attributes: { 'cache.key': 'orders:42' } },
    ]);
    expect(server!.attributes['http.request.method']).toBe('GET');
  });
});

describe('OTLP/HTTP receiver with OpenTelemetry exporters', () => {
  it.each([
    ['exporter-trace-otlp-proto', () => new OtelProtoExporter({ url: `${viewer.urls.otlp}/v1/traces` })],
    [
      'exporter-trace-otlp-http (JSON)',
      () => new OtelHttpJsonExporter({ url: `${viewer.urls.otlp}/v1/traces` }),
    ],
    [
      'exporter-trace-otlp-proto with gzip',
      () => new OtelProtoExporter({ url: `${viewer.urls.otlp}/v1/traces`, compression: 'gzip' as never }),
    ],
  ])('stores what %s sends', async (_name, make) => {
    const spans = await otelSpans();
    const exporter = make();
    const code = await otelExport(exporter, spans);
    await exporter.shutdown();
    expect(code).toBe(OtelResultCode.SUCCESS);
    const trace = viewer.store.getTrace(spans[0]!.spanContext().traceId)!;
    expect(trace.spans.map((s) => [s.service, s.name, s.kind, s.statusCode])).toEqual([
      ['otel-cart', 'POST /cart', 'server', 0],
      ['otel-cart', 'SELECT cart', 'client', 2],
    ]);
    expect(trace.spans[0]!.attributes).toMatchObject({
      'http.response.status_code': 201,
      'cart.items': ['a', 'b'],
    });
    expect(trace.spans[0]!.events[0]).toMatchObject({ name: 'validated', attributes: { 'cart.size': 2 } });
  });
});

describe('one viewer, every protocol', () => {
  it('lists traces from OTLP and Zipkin senders side by side in the API', async () => {
    await new OtlpHttpExporter({ url: `${viewer.urls.otlp}/v1/traces` }).export(tracewireSpans());
    const otel = await otelSpans();
    await otelExport(new OtelProtoExporter({ url: `${viewer.urls.otlp}/v1/traces` }), otel);
    const response = await fetch(`${viewer.urls.ui}/api/traces`);
    const page = (await response.json()) as { traces: { traceId: string; rootService: string }[] };
    expect(page.traces.map((t) => t.rootService).sort()).toEqual(['otel-cart', 'shop']);
    const services = (await (await fetch(`${viewer.urls.ui}/api/services`)).json()) as { services: string[] };
    expect(services.services).toEqual(['otel-cart', 'shop', 'stock']);
  });
});

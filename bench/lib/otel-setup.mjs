// OpenTelemetry's auto-instrumentation as its docs set it up: NodeTracerProvider, BatchSpanProcessor (default
// limits), OTLP/HTTP exporter (endpoint from OTEL_EXPORTER_OTLP_ENDPOINT), W3C propagation, and the http,
// framework and undici (fetch) instrumentations. Must run before the frameworks are required.
// The exporter sends protobuf, the OTLP spec's default protocol and what tracewire sends, so that the sink, which
// shares the machine's cores with the server, does the same work per span for both; OTEL_EXPORTER_OTLP_PROTOCOL=
// http/json switches both to JSON (OpenTelemetry's `exporter-trace-otlp-http`, this benchmark's exporter until
// 2026-11-27 22:35 UTC).
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

function traceExporter() {
  const protocol = process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (protocol === undefined || protocol === 'http/protobuf') return new ProtoTraceExporter();
  if (protocol === 'http/json') return new JsonTraceExporter();
  throw new RangeError(
    `OTEL_EXPORTER_OTLP_PROTOCOL: this benchmark runs http/protobuf or http/json, got ${protocol}`,
  );
}

export function setupOpenTelemetry(framework, require) {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `bench-${framework}-otel` }),
    spanProcessors: [new BatchSpanProcessor(traceExporter())],
  });
  provider.register();
  const instrumentations = [new HttpInstrumentation(), new UndiciInstrumentation()];
  let fastifyOtel;
  if (framework === 'express') instrumentations.push(new ExpressInstrumentation());
  if (framework === 'koa') instrumentations.push(new KoaInstrumentation());
  if (framework === 'fastify') {
    const FastifyOtelInstrumentation = require('@fastify/otel');
    fastifyOtel = new FastifyOtelInstrumentation();
    instrumentations.push(fastifyOtel);
  }
  registerInstrumentations({ tracerProvider: provider, instrumentations });
  return { flush: () => provider.forceFlush(), fastifyOtel };
}

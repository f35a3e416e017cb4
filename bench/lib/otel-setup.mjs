// OpenTelemetry's auto-instrumentation as its docs set it up: NodeTracerProvider, BatchSpanProcessor (default
// limits), OTLP/HTTP exporter (JSON, endpoint from OTEL_EXPORTER_OTLP_ENDPOINT), W3C propagation, and the http,
// framework and undici (fetch) instrumentations. Must run before the frameworks are required.
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KoaInstrumentation } from '@opentelemetry/instrumentation-koa';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export function setupOpenTelemetry(framework, require) {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `bench-${framework}-otel` }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
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

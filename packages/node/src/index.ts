// The @tracewire/core types and classes this package's own API takes and returns (a span's context, the active
// baggage, the propagators option), so an app needs no direct dependency on core to name them: under pnpm's strict
// layout it could not import it, and declaration emit could not name them (TS2742).
export {
  Baggage,
  type BaggageEntry,
  type CarrierGetter,
  type CarrierSetter,
  type PropagationContext,
  type Propagator,
  type SpanContext,
  TraceFlags,
  TraceState,
} from '@tracewire/core';
export { BatchSpanProcessor, type BatchSpanProcessorOptions } from './batch-processor.js';
export type {
  BatchOptions,
  ExporterOption,
  OtlpOptions,
  ShutdownOptions,
  TracewireOptions,
  ZipkinOptions,
} from './config.js';
export {
  bindContext,
  getActiveBaggage,
  getActiveContext,
  getActiveSpan,
  isTracingSuppressed,
  runInContext,
  suppressTracing,
  type TraceContext,
  withSpan,
} from './context.js';
export type { Compression, ExporterName, OtlpProtocol, SamplerName } from './env.js';
export { isClientGoneError } from './error-type.js';
export { ConsoleExporter, type ConsoleExporterOptions, renderWaterfall } from './exporters/console.js';
export type { RetryPolicy } from './exporters/http-send.js';
export { InMemoryExporter } from './exporters/in-memory.js';
export { OtlpHttpExporter, type OtlpHttpExporterOptions } from './exporters/otlp-http-exporter.js';
export { type OtlpJsonTraceRequest, toOtlpJson } from './exporters/otlp-json.js';
export { encodeOtlpProto } from './exporters/otlp-proto.js';
export type { ExporterTlsOptions } from './exporters/tls-options.js';
export {
  toZipkinSpans,
  ZipkinExporter,
  type ZipkinExporterOptions,
  type ZipkinSpan,
} from './exporters/zipkin.js';
export { configure, getTracer } from './global.js';
export { installOutgoing } from './install-outgoing.js';
export { type LogFields, logFields } from './log-fields.js';
export { NonRecordingSpan } from './non-recording-span.js';
export type { OpenTelemetryApi } from './otel-api/api-types.js';
export { type OpenTelemetryApiRegistration, registerOpenTelemetryApi } from './otel-api/register.js';
export type { DestinationPattern, OutgoingOptions } from './outgoing-options.js';
export { warnRoutesBeforeTracing } from './registration-warning.js';
export { detectResource, type ResourceOptions } from './resource.js';
export { alwaysOff, alwaysOn, type Sampler } from './sampler.js';
export { type ParentBasedOptions, parentBased } from './sampler-parent-based.js';
export { rateLimited } from './sampler-rate-limited.js';
export { traceIdRatio } from './sampler-trace-id-ratio.js';
export type { IgnoreOption, IncomingContextPolicy, ServerTracingOptions } from './server-options.js';
export { createServerTracing, openRequestContext, RequestTrace, ServerTracing } from './server-span.js';
export { SimpleSpanProcessor } from './simple-processor.js';
export type { Span } from './span.js';
export * from './span-data.js';
export type { SpanLimits } from './span-limits.js';
export type { SpanProcessor } from './span-processor.js';
export { TracerStats } from './stats.js';
export { type SpanCallback, type StartSpanOptions, Tracer } from './tracer.js';
export {
  type QueryRedaction,
  redactQueryString,
  redactUrl,
  type UrlRedactionOptions,
} from './url-redaction.js';

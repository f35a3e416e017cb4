import { BatchSpanProcessor, DEFAULT_EXPORT_TIMEOUT_MILLIS } from './batch-processor.js';
import { type ExporterSpec, type ResolvedConfig, resolveConfig, type TracewireOptions } from './config.js';
import { installExitFlush } from './exit-flush.js';
import { ConsoleExporter } from './exporters/console.js';
import { type RateLimitedWarn, rateLimitedWarn } from './exporters/failure-warning.js';
import { DEFAULT_SEND_TIMEOUT_MILLIS } from './exporters/http-span-sender.js';
import { OtlpHttpExporter } from './exporters/otlp-http-exporter.js';
import { ZipkinExporter } from './exporters/zipkin.js';
import { installOutgoing } from './install-outgoing.js';
import { processShared } from './process-shared.js';
import { installShutdownHooks } from './shutdown-hooks.js';
import type { SpanExporter } from './span-data.js';
import type { SpanProcessor } from './span-processor.js';
import { TracerStats } from './stats.js';
import { Tracer } from './tracer.js';

/**
 * How long a replaced tracer waits for the requests it is tracing to finish before it ends their spans as
 * `shutdown`: a request in flight during a configuration reload was no failure.
 */
const RETIRE_WAIT_MILLIS = 30_000;

/**
 * Builds a tracer from `options` over the environment and makes it the global one, retiring the previous one:
 * requests it is tracing finish their spans there (for up to 30 s), then it flushes and shuts down. Invalid options
 * or environment values throw before anything changes.
 */
export function configure(options?: TracewireOptions): Tracer {
  const tracer = createTracer(resolveConfig(options));
  // Shared by the ES module and CommonJS copies of this package (process-shared.ts).
  const previous = processShared.tracer as Tracer | undefined;
  processShared.tracer = tracer;
  processShared.lazyFailure = undefined;
  if (previous !== undefined && previous !== tracer) tracer.replaces(previous, RETIRE_WAIT_MILLIS);
  return tracer;
}

/**
 * The global tracer; the first call without a `configure()` configures one from the environment. When the
 * environment is invalid it throws that error, and keeps throwing it (without re-reading) until `configure()`
 * succeeds.
 */
export function getTracer(): Tracer {
  const current = processShared.tracer as Tracer | undefined;
  if (current !== undefined) return current;
  if (processShared.lazyFailure !== undefined) throw processShared.lazyFailure;
  try {
    return configure();
  } catch (error) {
    processShared.lazyFailure = error;
    throw error;
  }
}

function createTracer(config: ResolvedConfig): Tracer {
  const stats = new TracerStats();
  // One line per kind for the whole tracer, whichever exporter or processor notices it first: the exporters' about
  // the collector, the processors' about a full queue. Sharing one, a full queue's line (first under load) kept
  // the collector's error, the cause, unsaid for 5 minutes.
  const exporterWarn = rateLimitedWarn();
  const queueWarn = rateLimitedWarn();
  const exportTimeoutMillis = config.batch.exportTimeoutMillis ?? DEFAULT_EXPORT_TIMEOUT_MILLIS;
  const processors: SpanProcessor[] = config.exporters.map(
    (spec) =>
      new BatchSpanProcessor(
        createExporter(spec, exporterWarn, exportTimeoutMillis),
        { ...config.batch, warn: queueWarn },
        stats,
      ),
  );
  processors.push(...config.processors);
  const cleanups: (() => void)[] = [];
  const tracer = new Tracer({
    resource: config.resource,
    propagator: config.propagator,
    sampler: config.sampler,
    spanLimits: config.spanLimits,
    processors,
    stats,
    disabled: config.disabled,
    baggageAttributes: config.baggageAttributes,
    onShutdown: () => {
      for (const cleanup of cleanups) cleanup();
    },
  });
  // Disabled still propagates: the outgoing layer injects the incoming context it passes through untouched.
  if (config.instrumentOutgoing !== false) cleanups.push(installOutgoing(tracer, config.instrumentOutgoing));
  if (config.shutdownOnSignals !== false) {
    cleanups.push(installShutdownHooks(tracer, config.shutdownOnSignals));
    cleanups.push(installExitFlush(tracer, config.shutdownOnSignals));
  }
  return tracer;
}

function createExporter(
  spec: ExporterSpec,
  warn: RateLimitedWarn,
  exportTimeoutMillis: number,
): SpanExporter {
  switch (spec.kind) {
    case 'otlp':
    case 'zipkin': {
      // OpenTelemetry SDK spec: Export is never called concurrently for one exporter, and exportTimeoutMillis is how
      // long an export may run before it is cancelled. Only the exporter can cancel its request: with a longer
      // timeout of its own, a POST the processor gave up on kept running beside the next ones.
      const timeoutMillis = Math.min(
        spec.options.timeoutMillis ?? DEFAULT_SEND_TIMEOUT_MILLIS,
        exportTimeoutMillis,
      );
      return spec.kind === 'otlp'
        ? new OtlpHttpExporter({ ...spec.options, timeoutMillis, warn })
        : new ZipkinExporter({ ...spec.options, timeoutMillis, warn });
    }
    case 'console':
      return new ConsoleExporter();
    case 'custom':
      return spec.exporter;
  }
}

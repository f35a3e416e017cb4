import { isSpanContextValid } from '@tracewire/core';
import { getActiveSpan } from './context.js';

/** OpenTelemetry's names for a log record's trace context (the same as its pino and winston instrumentations). */
export interface LogFields {
  trace_id?: string;
  span_id?: string;
  /** Two lowercase hex digits, as in `traceparent`: `01` sampled, `00` not. */
  trace_flags?: string;
}

/**
 * The active span's ids for a log line, so a log backend can jump from the line to its trace: spread it into a
 * record or return it from pino's `mixin`. A new `{}` when no span is active: pino merges the line's own fields
 * into what `mixin` returned (`Object.assign`), so a shared object would collect them, and a frozen one threw
 * into every log call made with fields outside a request (startup, Fastify's `incoming request` line).
 */
export function logFields(): LogFields {
  const context = getActiveSpan()?.spanContext();
  if (context === undefined || !isSpanContextValid(context)) return {};
  return {
    trace_id: context.traceId,
    span_id: context.spanId,
    trace_flags: (context.traceFlags & 0xff).toString(16).padStart(2, '0'),
  };
}

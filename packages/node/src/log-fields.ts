import { isSpanContextValid } from '@tracewire/core';
import { getActiveSpan } from './context.js';

/** OpenTelemetry's names for a log record's trace context (the same as its pino and winston instrumentations). */
export interface LogFields {
  trace_id?: string;
  span_id?: string;
  /** Two lowercase hex digits, as in `traceparent`: `01` sampled, `00` not. */
  trace_flags?: string;
}

const NONE: LogFields = Object.freeze({});

/**
 * The active span's ids for a log line, so a log backend can jump from the line to its trace: spread it into a
 * record or return it from pino's `mixin`. `{}` (one shared frozen object) when no span is active.
 */
export function logFields(): LogFields {
  const context = getActiveSpan()?.spanContext();
  if (context === undefined || !isSpanContextValid(context)) return NONE;
  return {
    trace_id: context.traceId,
    span_id: context.spanId,
    trace_flags: (context.traceFlags & 0xff).toString(16).padStart(2, '0'),
  };
}

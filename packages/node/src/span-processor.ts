import type { Span } from './span.js';
import type { ReadableSpan } from './span-data.js';

/**
 * Sees every sampled span start and end. `onStart`/`onEnd` run on the request's hot path: they must return at once
 * and never throw (the tracer counts a throw in `stats.instrumentationErrors` and moves on).
 */
export interface SpanProcessor {
  onStart?(span: Span): void;
  onEnd(span: ReadableSpan): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

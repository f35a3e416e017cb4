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
  /**
   * Hands what is still queued to the exporter before returning, within `timeoutMillis`: the process is exiting
   * without a turn of the event loop left (`process.exit()`, an uncaught exception). Optional.
   */
  exportQueuedSync?(timeoutMillis: number): void;
}

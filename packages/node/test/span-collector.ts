import type { ReadableSpan } from '../src/span-data.js';
import type { SpanProcessor } from '../src/span-processor.js';

/** A processor that keeps every ended span in memory, for tests. */
export class SpanCollector implements SpanProcessor {
  readonly spans: ReadableSpan[] = [];
  started = 0;
  flushes = 0;
  shutdowns = 0;

  onStart(): void {
    this.started++;
  }

  onEnd(span: ReadableSpan): void {
    this.spans.push(span);
  }

  async forceFlush(): Promise<void> {
    this.flushes++;
  }

  async shutdown(): Promise<void> {
    this.shutdowns++;
  }
}

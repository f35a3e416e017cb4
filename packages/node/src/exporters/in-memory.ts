import type { ExportResult, ReadableSpan, SpanExporter } from '../span-data.js';

/** Keeps exported spans in an array, for tests. After `shutdown()` it refuses new spans, like a real exporter. */
export class InMemoryExporter implements SpanExporter {
  private spans: ReadableSpan[] = [];
  private isShutdown = false;

  export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    return Promise.resolve(this.exportSync(spans));
  }

  exportSync(spans: readonly ReadableSpan[]): ExportResult {
    if (this.isShutdown) return { code: 1, error: new Error('exporter is shut down') };
    for (const span of spans) this.spans.push(span);
    return { code: 0 };
  }

  /** Spans in the order they were exported. */
  getFinishedSpans(): ReadableSpan[] {
    return [...this.spans];
  }

  reset(): void {
    this.spans = [];
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.isShutdown = true;
    return Promise.resolve();
  }
}

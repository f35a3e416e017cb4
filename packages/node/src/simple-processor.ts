import { beginExporterShutdown, type ReadableSpan, type SpanExporter } from './span-data.js';
import type { SpanProcessor } from './span-processor.js';

/**
 * Exports each span as it ends, one export call per span. For tests and debugging: unlike the batch processor it
 * does no batching, so use `BatchSpanProcessor` in production.
 */
export class SimpleSpanProcessor implements SpanProcessor {
  readonly #exporter: SpanExporter;
  readonly #pending = new Set<Promise<unknown>>();
  #shutdown: Promise<void> | undefined;

  constructor(exporter: SpanExporter) {
    this.#exporter = exporter;
  }

  onEnd(span: ReadableSpan): void {
    if (this.#shutdown !== undefined) return;
    let pending: Promise<unknown>;
    try {
      pending = this.#exporter.export([span]).catch(() => undefined);
    } catch {
      return;
    }
    this.#pending.add(pending);
    void pending.then(() => this.#pending.delete(pending));
  }

  async forceFlush(): Promise<void> {
    await Promise.all(this.#pending);
    await this.#exporter.forceFlush?.();
  }

  /** At an exit with no event loop left: each span is already with the exporter, which delivers what it can. */
  exportQueuedSync(timeoutMillis: number): void {
    try {
      this.#exporter.forceFlushSync?.(timeoutMillis);
    } catch {
      // Never thrown into the exit.
    }
  }

  shutdown(): Promise<void> {
    if (this.#shutdown === undefined) beginExporterShutdown(this.#exporter);
    this.#shutdown ??= this.forceFlush().then(() => this.#exporter.shutdown());
    return this.#shutdown;
  }
}

import type { ExportResult, ReadableSpan, SpanExporter } from './span-data.js';

/** Spans the batch processor holds until they leave together: as span objects, or already encoded. */
export interface SpanBatch {
  /** Spans in the batch. */
  readonly length: number;
  /** Adds one ended span. If it throws, the batch is as it was before the call. */
  add(span: ReadableSpan): void;
}

/**
 * An exporter whose wire format lets each span be encoded on its own, as it ends. The batch processor then queues
 * bytes instead of span objects: a queued span object stays alive (and is copied by every young-generation
 * collection) until its batch leaves, and is read again, gone cold, to be encoded. Internal: the OTLP exporter's
 * protobuf encoding is the one user.
 */
export interface EncodingSpanExporter extends SpanExporter {
  /** False when this exporter's configuration encodes only whole batches (OTLP JSON). */
  readonly encodesSpansOnEnd: boolean;
  /** A new, empty batch. */
  newEncodedBatch(): SpanBatch;
  /** Sends a batch `newEncodedBatch` made, and resolves as `export` does. */
  exportEncoded(batch: SpanBatch): Promise<ExportResult>;
  /** `exportEncoded` before returning, within `timeoutMillis` (`SpanExporter#exportSync`). */
  exportEncodedSync(batch: SpanBatch, timeoutMillis: number): ExportResult;
}

/** The batch for every other exporter: the span objects, handed to `export` as they are. */
export class SpanArrayBatch implements SpanBatch {
  readonly spans: ReadableSpan[] = [];

  get length(): number {
    return this.spans.length;
  }

  add(span: ReadableSpan): void {
    this.spans.push(span);
  }
}

export function encodesOnEnd(exporter: SpanExporter): exporter is EncodingSpanExporter {
  return (exporter as Partial<EncodingSpanExporter>).encodesSpansOnEnd === true;
}

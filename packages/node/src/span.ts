import type { SpanContext } from '@tracewire/core';
import type { Attributes, AttributeValue, SpanLink, SpanStatus } from './span-data.js';

/** A span as instrumentation code sees it. Every method is safe to call after `end()` (it is ignored). */
export interface Span {
  spanContext(): SpanContext;
  /** False for spans that were not sampled, or that stand only for a remote parent. */
  isRecording(): boolean;
  setAttribute(key: string, value: AttributeValue | undefined): this;
  setAttributes(attributes: Attributes): this;
  /** `time` is epoch milliseconds or a Date; defaults to now. */
  addEvent(name: string, attributes?: Attributes, time?: number | Date): this;
  addLink(link: SpanLink): this;
  /** Adds OpenTelemetry's `exception` event (`exception.type`, `.message`, `.stacktrace`). Does not set status. */
  recordException(error: unknown, time?: number | Date): this;
  setStatus(status: SpanStatus): this;
  updateName(name: string): this;
  /** Ends the span once; later calls are ignored. `endTime` is epoch milliseconds or a Date. */
  end(endTime?: number | Date): void;
}

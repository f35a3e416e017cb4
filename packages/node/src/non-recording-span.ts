import { generateSpanId, generateTraceId, type SpanContext, TraceFlags } from '@tracewire/core';
import type { Span } from './span.js';
import type { Attributes, AttributeValue, SpanLink, SpanStatus } from './span-data.js';

/**
 * A span that records nothing and only carries its context, so an unsampled request still propagates its trace
 * (with sampled=0) to the services it calls. Every method is a no-op.
 */
export class NonRecordingSpan implements Span {
  readonly #context: SpanContext;

  constructor(spanContext: SpanContext) {
    this.#context = spanContext;
  }

  spanContext(): SpanContext {
    return this.#context;
  }

  isRecording(): boolean {
    return false;
  }

  setAttribute(_key: string, _value: AttributeValue | undefined): this {
    return this;
  }

  setAttributes(_attributes: Attributes): this {
    return this;
  }

  addEvent(_name: string, _attributes?: Attributes, _time?: number | Date): this {
    return this;
  }

  addLink(_link: SpanLink): this {
    return this;
  }

  recordException(_error: unknown, _time?: number | Date): this {
    return this;
  }

  setStatus(_status: SpanStatus): this {
    return this;
  }

  updateName(_name: string): this {
    return this;
  }

  end(_endTime?: number | Date): void {}
}

/** A new trace that is not recorded: injected as sampled=0, so the services called do not record it either. */
export function unsampledRoot(): SpanContext {
  return { traceId: generateTraceId(), spanId: generateSpanId(), traceFlags: TraceFlags.NONE };
}

import type { SpanContext } from '@tracewire/core';
import type { Span } from './span.js';

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

  setAttribute(): this {
    return this;
  }

  setAttributes(): this {
    return this;
  }

  addEvent(): this {
    return this;
  }

  addLink(): this {
    return this;
  }

  recordException(): this {
    return this;
  }

  setStatus(): this {
    return this;
  }

  updateName(): this {
    return this;
  }

  end(): void {}
}

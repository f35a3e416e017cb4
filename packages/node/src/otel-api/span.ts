import type { SpanContext } from '@tracewire/core';
import { NonRecordingSpan } from '../non-recording-span.js';
import { RecordingSpan } from '../recording-span.js';
import type { Span } from '../span.js';
import type { Attributes, SpanStatus } from '../span-data.js';
import type { OtelSpan, OtelSpanContext } from './api-types.js';
import { epochMillis, isTimeInput, toSpanContext } from './convert.js';
import { exceptionAttributes } from './exception.js';
import { toLink } from './link.js';

interface OtelLink {
  context: OtelSpanContext;
  attributes?: Attributes;
}

/**
 * A tracewire span as OpenTelemetry's `Span` interface: what the API's tracers return and what
 * `trace.getActiveSpan()` finds while tracewire's own span (a request's server span) is active.
 */
export class BridgedSpan {
  readonly span: Span;

  constructor(span: Span) {
    this.span = span;
  }

  /** Where a `performance.now()` reading the API is given lands: on the span's own clock. */
  get #clock(): number | undefined {
    return this.span instanceof RecordingSpan ? this.span.clock : undefined;
  }

  spanContext(): SpanContext {
    return this.span.spanContext();
  }

  isRecording(): boolean {
    return this.span.isRecording();
  }

  setAttribute(key: string, value: unknown): this {
    this.span.setAttribute(key, value as Parameters<Span['setAttribute']>[1]);
    return this;
  }

  setAttributes(attributes: Attributes): this {
    this.span.setAttributes(attributes);
    return this;
  }

  /**
   * `addEvent(name, attributes?, time?)` or `addEvent(name, time)`. As the SDK: when the second argument is a time
   * and so is the third, the third is the event's time.
   */
  addEvent(name: string, attributesOrTime?: unknown, time?: unknown): this {
    if (isTimeInput(attributesOrTime)) {
      this.span.addEvent(
        name,
        undefined,
        epochMillis(isTimeInput(time) ? time : attributesOrTime, this.#clock),
      );
    } else
      this.span.addEvent(name, attributesOrTime as Attributes | undefined, epochMillis(time, this.#clock));
    return this;
  }

  addLink(link: OtelLink): this {
    const converted = toLink(link);
    if (converted !== undefined) this.span.addLink(converted);
    return this;
  }

  addLinks(links: OtelLink[]): this {
    if (Array.isArray(links)) for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    this.span.setStatus(status);
    return this;
  }

  updateName(name: string): this {
    this.span.updateName(name);
    return this;
  }

  end(endTime?: unknown): void {
    this.span.end(epochMillis(endTime, this.#clock));
  }

  recordException(exception: unknown, time?: unknown): void {
    if (!this.span.isRecording()) return;
    const attributes = exceptionAttributes(exception);
    if (attributes !== undefined) this.span.addEvent('exception', attributes, epochMillis(time, this.#clock));
  }
}

// One wrapper per tracewire span, so `trace.getActiveSpan()` returns the same object every time it is asked.
const wrappers = new WeakMap<Span, BridgedSpan>();

export function bridged(span: Span): BridgedSpan {
  let wrapper = wrappers.get(span);
  if (wrapper === undefined) {
    wrapper = new BridgedSpan(span);
    wrappers.set(span, wrapper);
  }
  return wrapper;
}

/**
 * The span context of a span found in an OpenTelemetry context: tracewire's own for a span tracewire made (with
 * what only tracewire's carries, such as B3 debug), converted for any other.
 */
export function spanContextOf(span: OtelSpan): SpanContext {
  return span instanceof BridgedSpan ? span.span.spanContext() : toSpanContext(span.spanContext());
}

/**
 * The tracewire span behind a span found in an OpenTelemetry context. A span tracewire did not make (the API's
 * `wrapSpanContext`, another SDK's) is known only by its context: it stands as a non-recording parent.
 */
export function unbridged(span: OtelSpan | undefined): Span | undefined {
  if (span === undefined || span === null) return undefined;
  if (span instanceof BridgedSpan) return span.span;
  if (typeof span.spanContext !== 'function') return undefined;
  return new NonRecordingSpan(toSpanContext(span.spanContext()));
}

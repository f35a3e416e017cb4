import type { SpanContext } from '@tracewire/core';
import { addBaggageAttributes } from '../baggage-attributes.js';
import { getTracer } from '../global.js';
import { scopeKey, scopeOf } from '../instrumentation-scope.js';
import { NonRecordingSpan } from '../non-recording-span.js';
import { type Attributes, type InstrumentationScope, SpanKind } from '../span-data.js';
import type { StartSpanOptions } from '../tracer.js';
import type { OpenTelemetryApi, OtelContext, OtelSpanContext } from './api-types.js';
import {
  baggageFromOtel,
  countBridgeError,
  epochMillis,
  isMonotonicReading,
  isSuppressed,
  toSpanContext,
} from './convert.js';
import { toLink } from './link.js';
import { type BridgedSpan, bridged, spanContextOf } from './span.js';

interface OtelSpanOptions {
  kind?: number;
  attributes?: Attributes;
  links?: { context: OtelSpanContext; attributes?: Attributes }[];
  startTime?: unknown;
  root?: boolean;
}

/** OpenTelemetry's `Tracer` for one instrumentation scope, starting tracewire spans on tracewire's tracer. */
export class BridgedTracer {
  readonly #api: OpenTelemetryApi;
  readonly #scope: InstrumentationScope;

  constructor(api: OpenTelemetryApi, scope: InstrumentationScope) {
    this.#api = api;
    this.#scope = scope;
  }

  startSpan(name: string, options?: OtelSpanOptions, context?: OtelContext): BridgedSpan {
    let parent: SpanContext | null = null;
    try {
      const ctx = context ?? this.#api.context.active();
      const parentSpan = options?.root === true ? undefined : this.#api.trace.getSpan(ctx);
      parent = parentSpan === undefined ? null : spanContextOf(parentSpan);
      if (isSuppressed(ctx)) {
        // Nothing is recorded under suppressTracing. The span keeps the parent's context, as tracewire's own tracer
        // does under its suppression (OpenTelemetry's SDK gives the invalid context): neither is ever injected.
        return bridged(new NonRecordingSpan(parent ?? toSpanContext(this.#api.INVALID_SPAN_CONTEXT)));
      }
      const tracer = getTracer();
      const startOptions = this.#startOptions(parent, options);
      if (tracer.baggageAttributes.length > 0)
        this.#addBaggageAttributes(tracer.baggageAttributes, ctx, startOptions);
      return bridged(tracer.startSpan(name, startOptions));
    } catch {
      // A context or options the API would not have made, or an environment tracewire cannot configure from:
      // the library's code goes on with a span that records nothing.
      countBridgeError();
      return bridged(new NonRecordingSpan(parent ?? toSpanContext(this.#api.INVALID_SPAN_CONTEXT)));
    }
  }

  #startOptions(parent: SpanContext | null, options: OtelSpanOptions | undefined): StartSpanOptions {
    const startOptions: StartSpanOptions = { parent, scope: this.#scope };
    if (options !== undefined && options !== null) {
      if (isSpanKind(options.kind)) startOptions.kind = options.kind;
      if (options.attributes !== undefined) startOptions.attributes = options.attributes;
      if (Array.isArray(options.links)) {
        startOptions.links = [];
        for (const link of options.links) {
          const converted = toLink(link);
          if (converted !== undefined) startOptions.links.push(converted);
        }
      }
      // A performance.now() reading goes on the anchor the span will take (its active parent's, or the current one),
      // and the span then ends on that anchor too.
      const onAnchor = isMonotonicReading(options.startTime);
      const startTime = epochMillis(options.startTime, onAnchor ? getTracer().clockFor(parent) : undefined);
      if (startTime !== undefined) startOptions.startTime = startTime;
      if (onAnchor) startOptions.startOnAnchor = true;
    }
    return startOptions;
  }

  /** `configure({ baggageAttributes })`: the span is given its parent here, so its baggage is the API context's. */
  #addBaggageAttributes(keys: readonly string[], context: OtelContext, options: StartSpanOptions): void {
    const attributes = { ...options.attributes };
    addBaggageAttributes(keys, baggageFromOtel(this.#api.propagation.getBaggage(context)), attributes);
    options.attributes = attributes;
  }

  /** `(name, fn)`, `(name, options, fn)` or `(name, options, context, fn)`: `fn(span)` runs with the span active. */
  startActiveSpan(name: string, ...rest: unknown[]): unknown {
    // The API's no-op tracer and the SDK return nothing when called with a name alone; a function that is not
    // one throws from `context.with` in both, as here.
    if (rest.length === 0) {
      countBridgeError();
      return undefined;
    }
    // (name, fn), (name, options, fn), (name, options, context, fn): arguments past the fourth are ignored, as the SDK
    // ignores them.
    const fn = rest[Math.min(rest.length, 3) - 1];
    if (typeof fn !== 'function')
      throw new TypeError(
        'startActiveSpan: its callback (the last of at most four arguments) must be a function',
      );
    const options = rest.length >= 2 ? (rest[0] as OtelSpanOptions | undefined) : undefined;
    const context = rest.length >= 3 ? (rest[1] as OtelContext | undefined) : undefined;
    const parentContext = context ?? this.#api.context.active();
    const span = this.startSpan(name, options, parentContext);
    return this.#api.context.with(
      this.#withSpan(parentContext, span),
      fn as (s: BridgedSpan) => unknown,
      undefined,
      span,
    );
  }

  #withSpan(context: OtelContext, span: BridgedSpan): OtelContext {
    try {
      return this.#api.trace.setSpan(context, span);
    } catch {
      // Not a context the API made (startSpan already counted it): fn still runs, with its span active.
      return this.#api.trace.setSpan(this.#api.ROOT_CONTEXT, span);
    }
  }
}

/**
 * The API's SpanKind numbers are tracewire's (INTERNAL 0 .. CONSUMER 4); any other number is left out (INTERNAL)
 * rather than exported as a kind no backend knows.
 */
function isSpanKind(kind: unknown): kind is SpanKind {
  return (
    typeof kind === 'number' &&
    Number.isInteger(kind) &&
    kind >= SpanKind.INTERNAL &&
    kind <= SpanKind.CONSUMER
  );
}

const MAX_TRACERS = 256;

/** OpenTelemetry's `TracerProvider`: one tracer per name and version, all recording into tracewire. */
export class BridgedTracerProvider {
  readonly #api: OpenTelemetryApi;
  readonly #tracers = new Map<string, BridgedTracer>();

  constructor(api: OpenTelemetryApi) {
    this.#api = api;
  }

  getTracer(name: string, version?: string): BridgedTracer {
    const key = scopeKey(name, version);
    let tracer = this.#tracers.get(key);
    if (tracer === undefined) {
      tracer = new BridgedTracer(this.#api, scopeOf(name, version));
      // Bounded, for apps that name tracers from data; past it, each call gets a tracer of its own.
      if (this.#tracers.size < MAX_TRACERS) this.#tracers.set(key, tracer);
    }
    return tracer;
  }

  /**
   * Delivers what tracewire holds, as the SDK's provider does: what code flushing through the API calls (the AWS
   * Lambda instrumentation before its handler returns, a test's `provider.forceFlush()`). Never rejects.
   */
  forceFlush(): Promise<void> {
    return getTracer().forceFlush();
  }
}

/**
 * The parts of `@opentelemetry/api` (1.x) the bridge uses, written out structurally: the app passes its own copy
 * of the module, so tracewire depends on no version of it.
 */

export interface OtelContext {
  getValue(key: symbol): unknown;
  setValue(key: symbol, value: unknown): OtelContext;
  deleteValue(key: symbol): OtelContext;
}

export interface OtelSpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
  traceState?: { serialize(): string } | undefined;
}

export interface OtelSpan {
  spanContext(): OtelSpanContext;
}

export interface OtelBaggageEntry {
  value: string;
  metadata?: { toString(): string } | undefined;
}

export interface OtelBaggage {
  getAllEntries(): [string, OtelBaggageEntry][];
}

export interface OtelContextManager {
  active(): OtelContext;
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: OtelContext,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F>;
  bind<T>(context: OtelContext, target: T): T;
  enable(): this;
  disable(): this;
}

export interface OtelTextMapPropagator {
  inject(context: OtelContext, carrier: unknown, setter: unknown): void;
  extract(context: OtelContext, carrier: unknown, getter: unknown): OtelContext;
  fields(): string[];
}

/** `import * as api from '@opentelemetry/api'` (or `require`): what `registerOpenTelemetryApi` is given. */
export interface OpenTelemetryApi {
  ROOT_CONTEXT: OtelContext;
  INVALID_SPAN_CONTEXT: OtelSpanContext;
  context: {
    active(): OtelContext;
    with: OtelContextManager['with'];
    setGlobalContextManager(manager: OtelContextManager): boolean;
    disable(): void;
  };
  trace: {
    setGlobalTracerProvider(provider: object): boolean;
    getSpan(context: OtelContext): OtelSpan | undefined;
    setSpan(context: OtelContext, span: object): OtelContext;
    deleteSpan(context: OtelContext): OtelContext;
    setSpanContext(context: OtelContext, spanContext: OtelSpanContext): OtelContext;
    wrapSpanContext(spanContext: OtelSpanContext): OtelSpan;
    disable(): void;
  };
  propagation: {
    setGlobalPropagator(propagator: OtelTextMapPropagator): boolean;
    getBaggage(context: OtelContext): OtelBaggage | undefined;
    setBaggage(context: OtelContext, baggage: OtelBaggage): OtelContext;
    createBaggage(entries?: Record<string, OtelBaggageEntry>): OtelBaggage;
    disable(): void;
  };
  baggageEntryMetadataFromString(text: string): { toString(): string };
}

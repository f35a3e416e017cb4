import { Baggage, type SpanContext, TraceState } from '@tracewire/core';
import { epochMillisOrDate, monotonicNow, rootClockAt } from '../clock.js';
import { getTracer } from '../global.js';
import type {
  OpenTelemetryApi,
  OtelBaggage,
  OtelBaggageEntry,
  OtelContext,
  OtelSpanContext,
} from './api-types.js';

/** Input the bridge could not use, counted where tracewire counts its own (`tracer.stats.instrumentationErrors`). */
export function countBridgeError(): void {
  try {
    getTracer().stats.instrumentationErrors++;
  } catch {
    // No tracer to count on: the environment's error reaches the app at its first request.
  }
}

/** `@opentelemetry/core`'s suppressTracing key: `createContextKey` is `Symbol.for`, the same in every copy. */
export const SUPPRESS_TRACING_KEY = Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

export function isSuppressed(context: OtelContext): boolean {
  return context.getValue(SUPPRESS_TRACING_KEY) === true;
}

/**
 * tracewire's own key: the context of a request its server options ignore, under which nothing records (context.ts
 * `recordsNothing`). Kept in the API's contexts made from it, so spans the API starts there, and theirs, record
 * nothing either.
 */
export const RECORDS_NOTHING_KEY = Symbol.for('tracewire recordsNothing');

/**
 * OpenTelemetry's `TimeInput` as epoch milliseconds: `[seconds, nanoseconds]`, a `Date`, or a number, which is
 * epoch milliseconds unless it is below half of `performance.timeOrigin` (then it is a `performance.now()`
 * reading, placed on `clock`: the span's, or the one a new trace starts on), as `@opentelemetry/core` reads it.
 * Anything else is left to the span (now).
 */
export function epochMillis(time: unknown, clock?: number): number | undefined {
  if (isMonotonicReading(time)) return (clock ?? rootClockAt(monotonicNow())) + (time as number);
  if (isHrTime(time)) return time[0] * 1e3 + time[1] / 1e6;
  return epochMillisOrDate(time);
}

/** A number the API reads as a `performance.now()` reading rather than epoch milliseconds (`epochMillis`). */
export function isMonotonicReading(time: unknown): boolean {
  return typeof time === 'number' && Number.isFinite(time) && time < performance.timeOrigin / 2;
}

/** `@opentelemetry/core`'s `isTimeInput`: what `addEvent` takes for a time rather than attributes. */
export function isTimeInput(value: unknown): boolean {
  return typeof value === 'number' || value instanceof Date || isHrTime(value);
}

/** The API's `HrTime`: `[seconds, nanoseconds]` since the epoch. */
function isHrTime(value: unknown): value is [number, number] {
  return (
    Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'number'
  );
}

/**
 * A span context from OpenTelemetry code as tracewire's propagators and exporters read it: its trace state
 * becomes core's `TraceState` (which the W3C propagator writes), re-read from its serialized form.
 */
export function toSpanContext(context: OtelSpanContext): SpanContext {
  const state = context.traceState;
  let traceState: TraceState | undefined;
  if (state instanceof TraceState) traceState = state;
  else if (state !== undefined && state !== null && typeof state.serialize === 'function') {
    traceState = TraceState.parse(state.serialize());
  }
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    traceFlags: context.traceFlags,
    isRemote: context.isRemote === true,
    traceState,
    // A B3/Jaeger debug request, kept on the contexts tracewire's propagators extract, survives the API's round trip.
    debug: (context as { debug?: unknown }).debug === true ? true : undefined,
  };
}

// Conversions are kept per baggage object: the API hands the same object back from every context it is in.
const fromOtel = new WeakMap<OtelBaggage, Baggage>();
const toOtel = new WeakMap<Baggage, OtelBaggage>();

/**
 * The API's baggage as tracewire's. An entry that is not `{ value: string }` (the API's `createBaggage` takes
 * anything) is left out and counted; the other entries, and the span beside them, still flow.
 */
export function baggageFromOtel(baggage: OtelBaggage | undefined): Baggage | undefined {
  if (baggage === undefined || baggage === null || typeof baggage.getAllEntries !== 'function')
    return undefined;
  let converted = fromOtel.get(baggage);
  if (converted === undefined) {
    const entries: Record<string, { value: string; metadata?: string }> = Object.create(null);
    let skipped = false;
    for (const [key, entry] of baggage.getAllEntries()) {
      const kept = baggageEntryFromOtel(entry);
      if (kept === undefined) skipped = true;
      else entries[key] = kept;
    }
    if (skipped) countBridgeError();
    converted = Baggage.from(entries);
    fromOtel.set(baggage, converted);
  }
  return converted;
}

function baggageEntryFromOtel(entry: unknown): { value: string; metadata?: string } | undefined {
  try {
    const { value, metadata } = entry as OtelBaggageEntry;
    if (typeof value !== 'string') return undefined;
    const text = metadata?.toString();
    return typeof text === 'string' && text !== '' ? { value, metadata: text } : { value };
  } catch {
    return undefined;
  }
}

export function baggageToOtel(api: OpenTelemetryApi, baggage: Baggage): OtelBaggage {
  let converted = toOtel.get(baggage);
  if (converted === undefined) {
    const entries: Record<string, { value: string; metadata?: { toString(): string } }> = Object.create(null);
    for (const [key, entry] of baggage.entries()) {
      entries[key] =
        entry.metadata === undefined
          ? { value: entry.value }
          : { value: entry.value, metadata: api.baggageEntryMetadataFromString(entry.metadata) };
    }
    converted = api.propagation.createBaggage(entries);
    toOtel.set(baggage, converted);
  }
  return converted;
}

import {
  type CarrierGetter,
  type CarrierSetter,
  defaultGetter,
  defaultSetter,
  lowercaseRecord,
  recordValue,
} from './carrier.js';
import { DecodedSpanContext, decodedIds } from './decoded-span-context.js';
import { BYTE_TO_HEX, decodeHexWords, hexValue } from './hex.js';
import { trimOws } from './ows.js';
import type { PropagationContext, Propagator } from './propagator.js';
import { isSpanContextValid, rememberValidIds, type SpanContext, TraceFlags } from './span-context.js';
import { TraceState } from './trace-state.js';

const TRACEPARENT = 'traceparent';
const TRACESTATE = 'tracestate';
/** version "-" trace-id "-" parent-id "-" trace-flags of version 00: 2+1+32+1+16+1+2. */
const V00_LENGTH = 55;
const DASH = 0x2d;
// Flags this implementation knows (sampled; Level 2 random). §3.2.2.5.2: other bits MUST be sent as zero.
const KNOWN_FLAGS = TraceFlags.SAMPLED | TraceFlags.RANDOM;

type MutableSpanContext = { -readonly [K in keyof SpanContext]: SpanContext[K] };

/**
 * Parses a `traceparent` value per W3C Trace Context §3.2.2 and §3.2.4 "Versioning of traceparent".
 * Returns undefined for anything invalid; never throws.
 */
export function parseTraceparent(header: string): MutableSpanContext | undefined {
  // Optional whitespace around a header value is not part of it; the W3C test suite sends `traceparent` with it
  // (test_traceparent_ows_handling). Node's HTTP parser strips it already, other carriers may not.
  const value = trimOws(header);
  const len = value.length;
  if (len < V00_LENGTH) return undefined;
  const v0 = hexValue(value.charCodeAt(0));
  const v1 = hexValue(value.charCodeAt(1));
  if (v0 < 0 || v1 < 0 || value.charCodeAt(2) !== DASH) return undefined;
  const version = (v0 << 4) | v1;
  // §3.2.2.1: version ff is invalid.
  if (version === 0xff) return undefined;
  // §3.2.2.2: version 00 is exactly 55 characters. §3.2.4: a higher version may be longer, but the
  // flags must then be followed by a dash (fields are only ever appended).
  if (version === 0 ? len !== V00_LENGTH : len > V00_LENGTH && value.charCodeAt(V00_LENGTH) !== DASH) {
    return undefined;
  }
  if (value.charCodeAt(35) !== DASH || value.charCodeAt(52) !== DASH) return undefined;
  // §3.2.2.3 / §3.2.2.4: lowercase hex, not all zeros.
  if (!decodeHexWords(value, 3, 35, decodedIds, 0) || !decodeHexWords(value, 36, 52, decodedIds, 4))
    return undefined;
  const f0 = hexValue(value.charCodeAt(53));
  const f1 = hexValue(value.charCodeAt(54));
  if (f0 < 0 || f1 < 0) return undefined;
  // §3.2.2.5: bits other than sampled and (Level 2) random are reserved and MUST be zero where we send or record
  // them; of a higher version only the sampled bit is understood (§3.2.4).
  const traceFlags = ((f0 << 4) | f1) & (version === 0 ? KNOWN_FLAGS : TraceFlags.SAMPLED);
  const traceId = value.slice(3, 35);
  const spanId = value.slice(36, 52);
  rememberValidIds(traceId, spanId);
  return new DecodedSpanContext(traceId, spanId, traceFlags);
}

/** The version 00 header for a valid context (§3.2.4: always written in the highest version we know). */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${BYTE_TO_HEX[sc.traceFlags & KNOWN_FLAGS]}`;
}

/** W3C Trace Context: `traceparent` + `tracestate`. */
export const w3cTraceContext: Propagator = {
  name: 'tracecontext',
  fields: [TRACEPARENT, TRACESTATE],

  inject<C>(context: PropagationContext, carrier: C, setter?: CarrierSetter<C>): void {
    const sc = context.spanContext;
    if (!isSpanContextValid(sc)) return;
    const set = setter ?? (defaultSetter as CarrierSetter<C>);
    set.set(carrier, TRACEPARENT, formatTraceparent(sc));
    const ts = sc.traceState;
    if (ts instanceof TraceState && ts.size > 0) set.set(carrier, TRACESTATE, ts.serialize());
  },

  extract<C>(carrier: C, getter?: CarrierGetter<C>): PropagationContext {
    const get = getter ?? (defaultGetter as CarrierGetter<C>);
    const record = lowercaseRecord(carrier, get);
    const header = record !== undefined ? recordValue(record.traceparent) : get.get(carrier, TRACEPARENT);
    // Two traceparent headers cannot be combined into one context; the request starts a new trace.
    const value = typeof header === 'string' ? header : header?.length === 1 ? header[0] : undefined;
    if (typeof value !== 'string') return {};
    const sc = parseTraceparent(value);
    if (sc === undefined) return {};
    // §3.3: tracestate is read only after a valid traceparent; a bad tracestate is dropped alone.
    const traceState = TraceState.parse(
      record !== undefined ? recordValue(record.tracestate) : get.get(carrier, TRACESTATE),
    );
    if (traceState !== undefined) sc.traceState = traceState;
    return { spanContext: sc };
  },
};

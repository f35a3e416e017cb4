import { Baggage, MAX_BAGGAGE_BYTES } from './baggage.js';
import {
  type CarrierGetter,
  type CarrierSetter,
  defaultGetter,
  defaultSetter,
  lowercaseRecord,
  plainRecord,
  recordValue,
  singleValue,
} from './carrier.js';
import { isHex, isHexId } from './hex.js';
import { trimOws } from './ows.js';
import type { PropagationContext, Propagator } from './propagator.js';
import { isSampled, isSpanContextValid, type SpanContext, TraceFlags } from './span-context.js';

const UBER_TRACE_ID = 'uber-trace-id';
const BAGGAGE_PREFIX = 'uberctx-';
const ZEROS = '00000000000000000000000000000000';
// Jaeger flags byte: bit 1 sampled, bit 2 debug (debug is only ever set together with sampled).
const JAEGER_SAMPLED = 0x01;
const JAEGER_DEBUG = 0x02;

/** Jaeger ids are variable-length hex with leading zeros dropped; pad back to `width` (lowercased). */
function readId(raw: string, width: number): string | undefined {
  if (raw.length === 0 || raw.length > width) return undefined;
  const id = raw.toLowerCase();
  const padded = id.length === width ? id : ZEROS.slice(0, width - id.length) + id;
  return isHexId(padded, 0, width) ? padded : undefined;
}

/**
 * `uber-trace-id: {trace-id}:{span-id}:{parent-span-id}:{flags}` (Jaeger client "Propagation Format").
 * Some clients send it URL-encoded (`%3A` for ":").
 */
export function parseUberTraceId(header: string): SpanContext | undefined {
  let value = trimOws(header);
  if (value.indexOf('%') !== -1) {
    try {
      value = decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  const parts = value.split(':');
  if (parts.length !== 4) return undefined;
  const traceId = readId(parts[0]!, 32);
  const spanId = readId(parts[1]!, 16);
  if (traceId === undefined || spanId === undefined) return undefined;
  // The parent span id is deprecated and usually "0", but it still has to be hex.
  const parent = parts[2]!.toLowerCase();
  if (parent.length === 0 || parent.length > 16 || !isHex(parent, 0, parent.length)) return undefined;
  const flagsText = parts[3]!.toLowerCase();
  if (flagsText.length === 0 || flagsText.length > 2 || !isHex(flagsText, 0, flagsText.length))
    return undefined;
  const flags = Number.parseInt(flagsText, 16);
  if (flags & JAEGER_DEBUG)
    return { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true, debug: true };
  const traceFlags = flags & JAEGER_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE;
  return { traceId, spanId, traceFlags, isRemote: true };
}

/**
 * A `uberctx-*` value. The Go and Java Jaeger clients write them form-encoded (`url.QueryEscape`, `URLEncoder`:
 * a space is "+") and read them back so; no client sends a literal "+" unescaped (JavaScript's
 * encodeURIComponent writes %2B), so "+" is a space here.
 */
function decode(raw: string): string | undefined {
  const value = raw.indexOf('+') === -1 ? raw : raw.replaceAll('+', ' ');
  if (value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * `uberctx-` in any case followed by at least one character, compared by char code: this runs for every header
 * of every request, almost always to say no, so it must not copy or lowercase the name.
 */
function isBaggageHeader(name: string): boolean {
  if (name.length <= BAGGAGE_PREFIX.length) return false;
  for (let i = 0; i < BAGGAGE_PREFIX.length; i++) {
    const c = name.charCodeAt(i);
    const p = BAGGAGE_PREFIX.charCodeAt(i);
    if (c !== p && !(p >= 0x61 && p <= 0x7a && (c | 0x20) === p)) return false;
  }
  return true;
}

/**
 * Collects one `uberctx-*` header's entry. The entries are gathered first and made into baggage once: building it
 * one `set` at a time copied it per header, quadratic in what any client can send (180 headers cost 0.9–1.7 ms).
 */
function addBaggageHeader(
  entries: Record<string, string> | undefined,
  name: string,
  raw: string | undefined,
): Record<string, string> | undefined {
  const value = raw === undefined ? undefined : decode(raw);
  if (value === undefined) return entries;
  // No prototype: a header named `uberctx-__proto__` is an entry like any other.
  const collected = entries ?? (Object.create(null) as Record<string, string>);
  collected[name.slice(BAGGAGE_PREFIX.length)] = value;
  return collected;
}

/** Jaeger: `uber-trace-id` and `uberctx-{key}` baggage headers (values URL-encoded). */
export const jaeger: Propagator = {
  name: 'jaeger',
  // uberctx-* names depend on the baggage, so they cannot be listed up front.
  fields: [UBER_TRACE_ID],

  inject<C>(context: PropagationContext, carrier: C, setter?: CarrierSetter<C>): void {
    const set = setter ?? (defaultSetter as CarrierSetter<C>);
    const sc = context.spanContext;
    if (isSpanContextValid(sc)) {
      const flags = sc.debug === true ? '03' : isSampled(sc) ? '01' : '00';
      set.set(carrier, UBER_TRACE_ID, `${sc.traceId}:${sc.spanId}:0:${flags}`);
    }
    const baggage = context.baggage;
    if (baggage instanceof Baggage) {
      // The W3C baggage limit (8192 bytes as key=value,...) holds for the uberctx-* headers taken together too:
      // values arriving in uberctx-* headers are not bounded by Baggage.serialize(), and percent-encoding can
      // triple them, enough to push a downstream request past its server's header size limit.
      let bytes = -1;
      for (const [key, entry] of baggage.entries()) {
        const value = encodeURIComponent(entry.value);
        const size = key.length + value.length + 2;
        if (bytes + size > MAX_BAGGAGE_BYTES) continue;
        bytes += size;
        set.set(carrier, BAGGAGE_PREFIX + key, value);
      }
    }
  },

  extract<C>(carrier: C, getter?: CarrierGetter<C>): PropagationContext {
    const get = getter ?? (defaultGetter as CarrierGetter<C>);
    const lower = lowercaseRecord(carrier, get);
    const header = singleValue(
      lower !== undefined ? recordValue(lower[UBER_TRACE_ID]) : get.get(carrier, UBER_TRACE_ID),
    );
    const spanContext = header === undefined ? undefined : parseUberTraceId(header);
    let entries: Record<string, string> | undefined;
    const record = lower ?? (get === defaultGetter ? plainRecord(carrier) : undefined);
    if (record !== undefined) {
      // Node's header objects: for-in walks the names without allocating the array `keys()` would return.
      for (const name in record) {
        if (isBaggageHeader(name))
          entries = addBaggageHeader(entries, name, singleValue(recordValue(record[name])));
      }
    } else {
      for (const name of get.keys(carrier)) {
        if (isBaggageHeader(name))
          entries = addBaggageHeader(entries, name, singleValue(get.get(carrier, name)));
      }
    }
    const baggage = entries === undefined ? undefined : Baggage.from(entries);
    const result: PropagationContext = {};
    if (spanContext !== undefined) result.spanContext = spanContext;
    if (baggage !== undefined && baggage.size > 0) result.baggage = baggage;
    return result;
  },
};

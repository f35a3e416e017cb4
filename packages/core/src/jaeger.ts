import { Baggage, MAX_BAGGAGE_BYTES } from './baggage.js';
import {
  type CarrierGetter,
  type CarrierSetter,
  defaultGetter,
  defaultSetter,
  singleValue,
} from './carrier.js';
import { isHex, isHexId } from './hex.js';
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
  let value = header;
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
  const traceFlags = flags & (JAEGER_SAMPLED | JAEGER_DEBUG) ? TraceFlags.SAMPLED : TraceFlags.NONE;
  return { traceId, spanId, traceFlags, isRemote: true };
}

function decode(value: string): string | undefined {
  if (value.indexOf('%') === -1) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
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
      set.set(carrier, UBER_TRACE_ID, `${sc.traceId}:${sc.spanId}:0:${isSampled(sc) ? '01' : '00'}`);
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
    const header = singleValue(get.get(carrier, UBER_TRACE_ID));
    const spanContext = header === undefined ? undefined : parseUberTraceId(header);
    let baggage: Baggage | undefined;
    for (const name of get.keys(carrier)) {
      const prefix = name.slice(0, BAGGAGE_PREFIX.length);
      if (name.length <= BAGGAGE_PREFIX.length || prefix.toLowerCase() !== BAGGAGE_PREFIX) continue;
      const raw = singleValue(get.get(carrier, name));
      const value = raw === undefined ? undefined : decode(raw);
      if (value === undefined) continue;
      baggage = (baggage ?? Baggage.empty()).set(name.slice(BAGGAGE_PREFIX.length), value);
    }
    const result: PropagationContext = {};
    if (spanContext !== undefined) result.spanContext = spanContext;
    if (baggage !== undefined && baggage.size > 0) result.baggage = baggage;
    return result;
  },
};

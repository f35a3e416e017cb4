import {
  type CarrierGetter,
  type CarrierSetter,
  defaultGetter,
  defaultSetter,
  lowercaseRecord,
  plainRecord,
  recordValue,
  singleValue,
  toHeaderValue,
} from './carrier.js';
import { isHeaderName } from './header-name.js';
import { isHexId } from './hex.js';
import { trimOws } from './ows.js';
import type { PropagationContext, Propagator } from './propagator.js';
import {
  isSampled,
  isSpanContextValid,
  rememberValidIds,
  type SpanContext,
  TraceFlags,
} from './span-context.js';

const B3 = 'b3';
const TRACE_ID = 'x-b3-traceid';
const SPAN_ID = 'x-b3-spanid';
const PARENT_SPAN_ID = 'x-b3-parentspanid';
const SAMPLED = 'x-b3-sampled';
const FLAGS = 'x-b3-flags';
const PAD_64 = '0000000000000000';
const DASH = 0x2d;

export interface B3Options {
  /** Which header form `inject` writes: the single `b3` header (default) or the `X-B3-*` headers. */
  inject?: 'single' | 'multi';
}

/**
 * B3 TraceId: 16 or 32 lower-hex characters, not all zero. A 64-bit id is left-padded with zeros to 128 bits
 * ("TraceId" in openzipkin/b3-propagation), the same trace in W3C terms.
 */
function readTraceId(s: string, start: number, end: number): string | undefined {
  const len = end - start;
  if (len === 32) return isHexId(s, start, end) ? s.slice(start, end) : undefined;
  if (len === 16) return isHexId(s, start, end) ? PAD_64 + s.slice(start, end) : undefined;
  return undefined;
}

const DEBUG_STATE = 0x64; // 'd'

/** "Sampling State" of the single header: 1 accept, 0 deny, d debug (debug implies accept). */
function singleSamplingFlags(s: string, at: number): number | undefined {
  const c = s.charCodeAt(at);
  if (c === 0x31 || c === DEBUG_STATE) return TraceFlags.SAMPLED;
  if (c === 0x30) return TraceFlags.NONE;
  return undefined;
}

/**
 * Single header `b3: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]]` ("Single Header" in
 * openzipkin/b3-propagation). A bare sampling state (`0`, `1`, `d`) carries no ids, so it yields no context:
 * `singleSamplingOnly` reads it.
 */
export function parseB3Single(header: string): SpanContext | undefined {
  // As for traceparent: carriers other than Node's parser may keep optional whitespace around the value.
  const value = trimOws(header);
  const len = value.length;
  const d1 = value.indexOf('-');
  if (d1 === -1) return undefined;
  const traceId = readTraceId(value, 0, d1);
  if (traceId === undefined) return undefined;
  const spanEnd = d1 + 17;
  if (spanEnd > len || !isHexId(value, d1 + 1, spanEnd)) return undefined;
  const spanId = value.slice(d1 + 1, spanEnd);
  // "Sampling State" absent: defer the decision to the receiver.
  if (spanEnd === len)
    return { traceId, spanId, traceFlags: TraceFlags.NONE, isRemote: true, samplingDeferred: true };
  if (value.charCodeAt(spanEnd) !== DASH || spanEnd + 2 > len) return undefined;
  const traceFlags = singleSamplingFlags(value, spanEnd + 1);
  if (traceFlags === undefined) return undefined;
  const afterFlags = spanEnd + 2;
  if (afterFlags !== len) {
    // The parent span id is optional, but when present it must be a valid id.
    if (value.charCodeAt(afterFlags) !== DASH || len !== afterFlags + 17) return undefined;
    if (!isHexId(value, afterFlags + 1, len)) return undefined;
  }
  return value.charCodeAt(spanEnd + 1) === DEBUG_STATE
    ? { traceId, spanId, traceFlags, isRemote: true, debug: true }
    : { traceId, spanId, traceFlags, isRemote: true };
}

/**
 * "Sampling state can also be sent on its own (with no identifiers)": `b3: 0` (what proxies put on health
 * checks), `b3: 1` or `b3: d`. The decision for a new trace, as Brave's `SamplingFlags`; undefined otherwise.
 */
function singleSamplingOnly(value: string | undefined): PropagationContext | undefined {
  if (value === undefined || value.length !== 1) return undefined;
  const c = value.charCodeAt(0);
  if (c === 0x30) return { sampled: false };
  if (c === 0x31) return { sampled: true };
  if (c === DEBUG_STATE) return { sampled: true, debug: true };
  return undefined;
}

/**
 * `X-B3-Sampled` / `X-B3-Flags` without `X-B3-TraceId` ("Why send trace IDs with a reject sampling decision?":
 * "valid to propagate only a reject sampling decision"). Debug implies accept, whatever `X-B3-Sampled` says.
 */
function multiSamplingOnly(
  sampled: string | undefined,
  flags: string | undefined,
): PropagationContext | undefined {
  if (flags === '1') return { sampled: true, debug: true };
  const state = sampled === undefined ? undefined : sampledState(sampled);
  return state === undefined ? undefined : { sampled: state };
}

/**
 * `X-B3-Sampled`: "1" or "0", or the legacy "true" / "false" ("a lenient implementation may accept them"), read in
 * any case as Brave and OpenTelemetry JS (`True`) do. Anything else is unreadable: undefined.
 */
function sampledState(value: string): boolean | undefined {
  if (value === '1') return true;
  if (value === '0') return false;
  if (value.length === 4 && value.toLowerCase() === 'true') return true;
  if (value.length === 5 && value.toLowerCase() === 'false') return false;
  return undefined;
}

/**
 * One `X-B3-*` value out of what a getter returned. "Multiple Headers": when extracting state headers, the first
 * value wins; Node's `req.headers` and fetch `Headers` join a repeated header with ", " (no B3 value has a comma).
 */
function firstValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (typeof v !== 'string') return undefined;
  const end = v.indexOf(',');
  return trimOws(end === -1 ? v : v.slice(0, end));
}

/** The six B3 headers as found in one carrier. */
interface B3Headers {
  single: string | undefined;
  traceId: string | undefined;
  spanId: string | undefined;
  parentSpanId: string | undefined;
  sampled: string | undefined;
  flags: string | undefined;
}

type B3Field = keyof B3Headers;

/** Two `b3` headers are ambiguous, so they read as absent; of a repeated `X-B3-*` header the first value wins. */
function headerValue(field: B3Field, value: string | string[] | undefined): string | undefined {
  return field === 'single' ? singleValue(value) : firstValue(value);
}

/** Which B3 header `name` is, in any case; dispatching on length rejects almost every other header at once. */
function b3Field(name: string): B3Field | undefined {
  switch (name.length) {
    case 2:
      return isHeaderName(name, B3) ? 'single' : undefined;
    case 10:
      return isHeaderName(name, FLAGS) ? 'flags' : undefined;
    case 11:
      return isHeaderName(name, SPAN_ID) ? 'spanId' : undefined;
    case 12:
      return isHeaderName(name, TRACE_ID) ? 'traceId' : isHeaderName(name, SAMPLED) ? 'sampled' : undefined;
    case 17:
      return isHeaderName(name, PARENT_SPAN_ID) ? 'parentSpanId' : undefined;
    default:
      return undefined;
  }
}

/** The `b3` header when present under its lowercase name, without a case-insensitive scan. */
function lowercaseSingle<C>(carrier: C, get: CarrierGetter<C>): string | undefined {
  if (get !== defaultGetter) return singleValue(get.get(carrier, B3));
  const record = plainRecord(carrier);
  const value = record === undefined ? get.get(carrier, B3) : record.b3;
  return typeof value === 'string' ? value : undefined;
}

/**
 * Finds the B3 headers in one pass over the header names. Most requests carry none of the six, and asking for
 * each by name would cost a case-insensitive scan per miss on plain-object carriers.
 */
function readB3Headers<C>(carrier: C, get: CarrierGetter<C>): B3Headers {
  const found: B3Headers = {
    single: undefined,
    traceId: undefined,
    spanId: undefined,
    parentSpanId: undefined,
    sampled: undefined,
    flags: undefined,
  };
  const record = get === defaultGetter ? plainRecord(carrier) : undefined;
  if (record !== undefined) {
    // Node's header objects: for-in reads each value straight from the enum cache, without allocating the
    // array `keys()` would return.
    for (const name in record) {
      const field = b3Field(name);
      if (field !== undefined) found[field] = headerValue(field, toHeaderValue(record[name]));
    }
    return found;
  }
  const names = get.keys(carrier);
  if (names.length === 0) {
    // A getter that cannot list its keys: ask by name.
    found.single = singleValue(get.get(carrier, B3));
    found.traceId = firstValue(get.get(carrier, TRACE_ID));
    found.spanId = firstValue(get.get(carrier, SPAN_ID));
    found.parentSpanId = firstValue(get.get(carrier, PARENT_SPAN_ID));
    found.sampled = firstValue(get.get(carrier, SAMPLED));
    found.flags = firstValue(get.get(carrier, FLAGS));
    return found;
  }
  for (const name of names) {
    const field = b3Field(name);
    if (field !== undefined) found[field] = headerValue(field, get.get(carrier, name));
  }
  return found;
}

/** Both forms from headers whose names are all lowercase: one property read per header, no walk over the names. */
function extractLowercase(h: Record<string, unknown>): SpanContext | PropagationContext | undefined {
  const rawSingle = h[B3];
  const single = rawSingle === undefined ? undefined : singleValue(recordValue(rawSingle));
  const fromSingle = single !== undefined ? parseB3Single(single) : undefined;
  if (fromSingle !== undefined) return fromSingle;
  const traceId = h[TRACE_ID];
  if (traceId === undefined) {
    // Most requests carry no B3 at all: four property misses in all say so.
    const sampled = h[SAMPLED];
    const flags = h[FLAGS];
    if (single === undefined && sampled === undefined && flags === undefined) return undefined;
    return singleSamplingOnly(single) ?? multiSamplingOnly(stateValue(sampled), stateValue(flags));
  }
  return (
    parseB3Multi(traceId, h[SPAN_ID], h[PARENT_SPAN_ID], h[SAMPLED], h[FLAGS]) ?? singleSamplingOnly(single)
  );
}

/**
 * What a walk over the headers found: ids from either form (the single header first), else a decision sent
 * without ids (the single header first: "The single-header variant takes precedence").
 */
function fromHeaders(headers: B3Headers): SpanContext | PropagationContext | undefined {
  const single = headers.single;
  return (
    (single !== undefined ? parseB3Single(single) : undefined) ??
    parseB3Multi(headers.traceId, headers.spanId, headers.parentSpanId, headers.sampled, headers.flags) ??
    singleSamplingOnly(single) ??
    (headers.traceId === undefined ? multiSamplingOnly(headers.sampled, headers.flags) : undefined)
  );
}

// The X-B3-* values below arrive as a getter or a header record gives them (a string, an array of repeated
// values, a number). One that is already valid as it is needs no search for a comma nor trimming: none of the
// grammars allows either, so firstValue would return it unchanged. Only the others go through firstValue.

/** `X-B3-TraceId` as a 128-bit id, or undefined when it is absent or invalid. */
function multiTraceId(raw: unknown): string | undefined {
  if (typeof raw === 'string') {
    const id = readTraceId(raw, 0, raw.length);
    if (id !== undefined) return id;
  }
  const value = firstValue(recordValue(raw));
  return value === undefined || value === raw ? undefined : readTraceId(value, 0, value.length);
}

/** `X-B3-SpanId` / `X-B3-ParentSpanId`, or undefined when it is absent or invalid. */
function multiSpanId(raw: unknown): string | undefined {
  if (typeof raw === 'string' && raw.length === 16 && isHexId(raw, 0, 16)) return raw;
  const value = firstValue(recordValue(raw));
  return value !== undefined && value !== raw && value.length === 16 && isHexId(value, 0, 16)
    ? value
    : undefined;
}

/** `X-B3-Sampled` / `X-B3-Flags` as one value. */
function stateValue(raw: unknown): string | undefined {
  return raw === '1' || raw === '0' || raw === undefined ? raw : firstValue(recordValue(raw));
}

/**
 * Multiple headers ("Multiple Headers" in openzipkin/b3-propagation). `X-B3-Sampled` is "1"/"0", or the
 * legacy "true"/"false"; `X-B3-Flags: 1` is debug, which implies sampled. A parent span id is optional, but when
 * present it must be a valid id.
 */
function parseB3Multi(
  rawTraceId: unknown,
  rawSpanId: unknown,
  rawParentSpanId: unknown,
  rawSampled: unknown,
  rawFlags: unknown,
): SpanContext | undefined {
  const traceId = multiTraceId(rawTraceId);
  const spanId = multiSpanId(rawSpanId);
  if (traceId === undefined || spanId === undefined) return undefined;
  if (
    rawParentSpanId !== undefined &&
    multiSpanId(rawParentSpanId) === undefined &&
    firstValue(recordValue(rawParentSpanId)) !== undefined
  ) {
    return undefined;
  }
  if (stateValue(rawFlags) === '1')
    return { traceId, spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true, debug: true };
  const sampled = stateValue(rawSampled);
  if (sampled === undefined)
    return { traceId, spanId, traceFlags: TraceFlags.NONE, isRemote: true, samplingDeferred: true };
  const state = sampledState(sampled);
  if (state === undefined) return undefined;
  return { traceId, spanId, traceFlags: state ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true };
}

function isSpanContext(found: SpanContext | PropagationContext): found is SpanContext {
  return (found as SpanContext).traceId !== undefined;
}

/**
 * B3 (openzipkin/b3-propagation). Extract reads the single `b3` header and the `X-B3-*` headers; a valid
 * single header wins. Without valid ids, a sampling state sent alone (`b3: 0`, `X-B3-Sampled: 0`, ...) comes
 * back as `sampled` / `debug`. Inject writes one form, chosen by `options.inject`.
 */
export function b3(options: B3Options = {}): Propagator {
  const mode = options.inject ?? 'single';
  if (mode !== 'single' && mode !== 'multi') {
    throw new RangeError(`b3: options.inject must be 'single' or 'multi', got ${JSON.stringify(mode)}`);
  }
  const multi = mode === 'multi';
  return {
    name: multi ? 'b3multi' : 'b3',
    fields: multi
      ? [TRACE_ID, SPAN_ID, SAMPLED, B3, PARENT_SPAN_ID, FLAGS]
      : [B3, TRACE_ID, SPAN_ID, SAMPLED, PARENT_SPAN_ID, FLAGS],

    inject<C>(context: PropagationContext, carrier: C, setter?: CarrierSetter<C>): void {
      const sc = context.spanContext;
      if (!isSpanContextValid(sc)) return;
      const set = setter ?? (defaultSetter as CarrierSetter<C>);
      // "Debug Flag": debug implies an accept decision, so X-B3-Sampled is not sent along with X-B3-Flags.
      const debug = sc.debug === true;
      // A context passed on as it came, with the decision still deferred (nothing here decided, e.g. tracing
      // disabled), leaves it to the next hop too.
      const deferred = sc.samplingDeferred === true && !debug && !isSampled(sc);
      const sampled = debug ? 'd' : isSampled(sc) ? '1' : '0';
      if (multi) {
        set.set(carrier, TRACE_ID, sc.traceId);
        set.set(carrier, SPAN_ID, sc.spanId);
        if (debug) set.set(carrier, FLAGS, '1');
        else if (!deferred) set.set(carrier, SAMPLED, sampled);
      } else {
        set.set(
          carrier,
          B3,
          deferred ? `${sc.traceId}-${sc.spanId}` : `${sc.traceId}-${sc.spanId}-${sampled}`,
        );
      }
    },

    extract<C>(carrier: C, getter?: CarrierGetter<C>): PropagationContext {
      const get = getter ?? (defaultGetter as CarrierGetter<C>);
      const lower = lowercaseRecord(carrier, get);
      let found: SpanContext | PropagationContext | undefined;
      if (lower !== undefined) found = extractLowercase(lower);
      else {
        // A valid single header wins whatever else is present, so one under its lowercase name (always so in
        // Node's headers, and found by any case with fetch Headers) spares walking every header name.
        const direct = lowercaseSingle(carrier, get);
        found = direct !== undefined ? parseB3Single(direct) : undefined;
        if (found === undefined) found = fromHeaders(readB3Headers(carrier, get));
      }
      if (found === undefined) return {};
      // A decision without ids is already the PropagationContext to return; a span context has a trace id.
      if (!isSpanContext(found)) return found;
      rememberValidIds(found.traceId, found.spanId);
      return { spanContext: found };
    },
  };
}

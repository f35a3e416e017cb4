import { isHexId } from './hex.js';
import type { TraceState } from './trace-state.js';

/** Bit flags of the W3C `trace-flags` field. */
export const TraceFlags = {
  NONE: 0x00,
  /** W3C Trace Context §3.2.2.5.1: the caller may have recorded this trace. */
  SAMPLED: 0x01,
  /** W3C Trace Context Level 2: the trace id's rightmost 7 bytes are random. */
  RANDOM: 0x02,
} as const;

/** The part of a span that crosses process boundaries. */
export interface SpanContext {
  /** 32 lowercase hex characters, not all zero. */
  readonly traceId: string;
  /** 16 lowercase hex characters, not all zero. */
  readonly spanId: string;
  /** 8-bit flags; see {@link TraceFlags}. */
  readonly traceFlags: number;
  readonly traceState?: TraceState | undefined;
  /** True when the context was extracted from a remote carrier. */
  readonly isRemote?: boolean | undefined;
  /**
   * B3 and Jaeger "debug": the caller asked every hop to record this trace (it is always sampled too). W3C trace
   * context has no such flag; the B3 and Jaeger propagators write it back, and child spans inherit it.
   */
  readonly debug?: boolean | undefined;
  /**
   * B3 "defer": the caller sent ids without a sampling state, leaving the decision to the receiver
   * (openzipkin/b3-propagation, "Sampling State"). `traceFlags` is then NONE; a parent-based sampler decides as for a
   * new trace, in the caller's trace, and the B3 propagator writes such a context back without a sampling state.
   */
  readonly samplingDeferred?: boolean | undefined;
}

// Strings are immutable, so an id identical to the last one that passed a check is valid as well. Most
// injects carry the trace id just extracted and a span id just generated; this spares re-scanning them.
let lastTraceId = '00000000000000000000000000000001';
let lastSpanId = '0000000000000001';

/** Records ids that were just validated or generated (internal to the package). */
export function rememberValidIds(traceId: string | undefined, spanId: string | undefined): void {
  if (traceId !== undefined) lastTraceId = traceId;
  if (spanId !== undefined) lastSpanId = spanId;
}

/** 32 lowercase hex characters, not all zero (W3C Trace Context §3.2.2.3). */
export function isValidTraceId(id: string): boolean {
  if (id === lastTraceId) return true;
  if (typeof id !== 'string' || id.length !== 32 || !isHexId(id, 0, 32)) return false;
  lastTraceId = id;
  return true;
}

/** 16 lowercase hex characters, not all zero (W3C Trace Context §3.2.2.4). */
export function isValidSpanId(id: string): boolean {
  if (id === lastSpanId) return true;
  if (typeof id !== 'string' || id.length !== 16 || !isHexId(id, 0, 16)) return false;
  lastSpanId = id;
  return true;
}

/** Valid ids and flags that fit in one byte: the only contexts any propagator injects. */
export function isSpanContextValid(sc: SpanContext | undefined | null): sc is SpanContext {
  return (
    sc != null &&
    isValidTraceId(sc.traceId) &&
    isValidSpanId(sc.spanId) &&
    Number.isInteger(sc.traceFlags) &&
    sc.traceFlags >= 0 &&
    sc.traceFlags <= 0xff
  );
}

export function isSampled(sc: SpanContext): boolean {
  return (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
}

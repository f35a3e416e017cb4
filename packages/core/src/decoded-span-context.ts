import type { SpanContext } from './span-context.js';
import type { TraceState } from './trace-state.js';

/**
 * Ids read from headers are decoded into shared blocks, 24 bytes each (trace id 16, then span id 8): a block is
 * never written again once a context holds a place in it, and a full one is replaced, not reused, so a context's
 * bytes stay as they were for as long as it lives, without an array of its own per request.
 */
const BLOCK_SIZE = 4096;
const ID_BYTES = 24;
let block = new Uint8Array(BLOCK_SIZE);
let used = 0;

/** Where the next context's 24 bytes go: `decodeBlock()` from this offset, until `claimDecoded()` keeps them. */
export function nextDecodedOffset(): number {
  if (used + ID_BYTES > BLOCK_SIZE) {
    block = new Uint8Array(BLOCK_SIZE);
    used = 0;
  }
  return used;
}

export function decodeBlock(): Uint8Array {
  return block;
}

/** The bytes written at `nextDecodedOffset()` belong to a context now. */
export function claimDecoded(): void {
  used += ID_BYTES;
}

/**
 * A span context read from a header that also keeps where its ids' bytes lie, decoded while they were checked: an
 * exporter that sends ids as bytes (OTLP protobuf) copies them instead of decoding the hex again, which cost more
 * than any other part of encoding a server span. Private, so the context reads, compares and serializes as the
 * plain record every other context is.
 */
export class DecodedSpanContext implements SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState: TraceState | undefined = undefined;
  isRemote = true;
  readonly #bytes: Uint8Array;
  readonly #at: number;
  // The ids the bytes spell: the context is a mutable record, and ids given to it since do not match the bytes.
  readonly #traceId: string;
  readonly #spanId: string;

  /** `bytes` from `at`: the 24 bytes `traceId` and `spanId` spell, never to be written again. */
  constructor(traceId: string, spanId: string, traceFlags: number, bytes: Uint8Array, at: number) {
    this.traceId = traceId;
    this.spanId = spanId;
    this.traceFlags = traceFlags;
    this.#bytes = bytes;
    this.#at = at;
    this.#traceId = traceId;
    this.#spanId = spanId;
  }

  static bytesOf(context: SpanContext): Uint8Array | undefined {
    if (!(context instanceof DecodedSpanContext)) return undefined;
    return context.traceId === context.#traceId && context.spanId === context.#spanId
      ? context.#bytes
      : undefined;
  }

  static offsetOf(context: SpanContext): number {
    return context instanceof DecodedSpanContext ? context.#at : 0;
  }
}

/**
 * Where the trace id's and span id's bytes (16, then 8) of a context read from a `traceparent` header lie:
 * `spanContextIdBytes(context)` from `spanContextIdBytesOffset(context)`, never written again. For exporters that
 * send ids as bytes; undefined for any other context (or one given other ids since), whose hex is to be decoded.
 */
export function spanContextIdBytes(context: SpanContext): Uint8Array | undefined {
  return DecodedSpanContext.bytesOf(context);
}

export function spanContextIdBytesOffset(context: SpanContext): number {
  return DecodedSpanContext.offsetOf(context);
}

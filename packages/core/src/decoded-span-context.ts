import type { SpanContext } from './span-context.js';
import type { TraceState } from './trace-state.js';

/** Where `w3cTraceContext` decodes a header's trace id (words 0-3) and span id (4-5) as it checks them. */
export const decodedIds = new Int32Array(6);

/**
 * A span context read from a header that also keeps its ids as six 32-bit words (trace id 4, span id 2), decoded
 * while they were checked: an exporter that sends ids as bytes (OTLP protobuf) writes them instead of decoding the
 * hex again, which cost more than any other part of encoding a server span. Private, so the context reads, compares
 * and serializes as the plain record every other context is.
 */
export class DecodedSpanContext implements SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  traceState: TraceState | undefined = undefined;
  isRemote = true;
  readonly #w0: number;
  readonly #w1: number;
  readonly #w2: number;
  readonly #w3: number;
  readonly #w4: number;
  readonly #w5: number;
  // The ids the words spell: the context is a mutable record, and ids given to it since do not match the words.
  readonly #traceId: string;
  readonly #spanId: string;

  /** Takes the ids' words from `decodedIds`, just written with `traceId` and `spanId`. */
  constructor(traceId: string, spanId: string, traceFlags: number) {
    this.traceId = traceId;
    this.spanId = spanId;
    this.traceFlags = traceFlags;
    this.#w0 = decodedIds[0]!;
    this.#w1 = decodedIds[1]!;
    this.#w2 = decodedIds[2]!;
    this.#w3 = decodedIds[3]!;
    this.#w4 = decodedIds[4]!;
    this.#w5 = decodedIds[5]!;
    this.#traceId = traceId;
    this.#spanId = spanId;
  }

  static hasWords(context: SpanContext): boolean {
    return (
      context instanceof DecodedSpanContext &&
      context.traceId === context.#traceId &&
      context.spanId === context.#spanId
    );
  }

  /** Word `index` (0-3 the trace id's, 4-5 the span id's) of a context `hasWords` answered true for. */
  static word(context: DecodedSpanContext, index: number): number {
    switch (index) {
      case 0:
        return context.#w0;
      case 1:
        return context.#w1;
      case 2:
        return context.#w2;
      case 3:
        return context.#w3;
      case 4:
        return context.#w4;
      default:
        return context.#w5;
    }
  }
}

/**
 * Whether `context` was read from a `traceparent` header and still has the ids read: then `spanContextIdWord` gives
 * its ids as big-endian 32-bit words (for exporters that send ids as bytes) instead of their hex being decoded.
 */
export function hasSpanContextIdWords(context: SpanContext): boolean {
  return DecodedSpanContext.hasWords(context);
}

/** Word `index` of such a context's ids: 0-3 the trace id's, 4-5 the span id's, each a signed int32. */
export function spanContextIdWord(context: SpanContext, index: number): number {
  return DecodedSpanContext.word(context as DecodedSpanContext, index);
}

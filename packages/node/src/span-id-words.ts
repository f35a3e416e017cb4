import { hasSpanContextIdWords, lastIdWord, type SpanContext, spanContextIdWord } from '@tracewire/core';

export const KNOWN_TRACE_ID = 1;
export const KNOWN_SPAN_ID = 2;
export const KNOWN_PARENT_ID = 4;

/**
 * A recording span's ids as big-endian 32-bit words (signed int32s): trace id `t0`-`t3`, span id `s0`-`s1`, parent
 * span id `p0`-`p1`; `known` says which are there. OTLP's protobuf encoding sends ids as bytes, and decoding the hex
 * of a span's three ids was the largest item of encoding it. A few numbers, so a span pins no buffer: its span id's
 * (and a new trace's id's) come from core's generator, a local parent's from that span, a caller's from core's
 * decoding of its `traceparent` header. What is not known (a B3 or Jaeger parent) the encoder decodes from the hex.
 */
export class IdWords {
  known = 0;
  t0 = 0;
  t1 = 0;
  t2 = 0;
  t3 = 0;
  s0 = 0;
  s1 = 0;
  p0 = 0;
  p1 = 0;
}

/** A new trace's id, read just after it was generated, until its span (if it is sampled) has words of its own. */
const newTrace = new IdWords();

/** Call right after `generateTraceId()` drew a new trace's id. */
export function keepNewTraceId(): void {
  newTrace.t0 = lastIdWord(0);
  newTrace.t1 = lastIdWord(1);
  newTrace.t2 = lastIdWord(2);
  newTrace.t3 = lastIdWord(3);
}

/**
 * A span's words, called right after `generateSpanId()` drew its span id: the trace's and parent's from the parent
 * span when it is one of this process (`local`), from `parent` when core read it from a header, from the id
 * `keepNewTraceId` kept when there is no parent.
 */
export function idWordsOf(
  parent: SpanContext | undefined,
  local: { readonly idWords: IdWords | undefined } | undefined,
): IdWords {
  const words = new IdWords();
  words.s0 = lastIdWord(0);
  words.s1 = lastIdWord(1);
  let known = KNOWN_SPAN_ID;
  if (parent === undefined) {
    copyTraceId(newTrace, words);
    known |= KNOWN_TRACE_ID;
  } else if (local !== undefined) {
    const from = local.idWords;
    if (from !== undefined) {
      if ((from.known & KNOWN_TRACE_ID) !== 0) {
        copyTraceId(from, words);
        known |= KNOWN_TRACE_ID;
      }
      words.p0 = from.s0;
      words.p1 = from.s1;
      known |= KNOWN_PARENT_ID;
    }
  } else if (hasSpanContextIdWords(parent)) {
    words.t0 = spanContextIdWord(parent, 0);
    words.t1 = spanContextIdWord(parent, 1);
    words.t2 = spanContextIdWord(parent, 2);
    words.t3 = spanContextIdWord(parent, 3);
    // The caller's span id: this span's parent.
    words.p0 = spanContextIdWord(parent, 4);
    words.p1 = spanContextIdWord(parent, 5);
    known |= KNOWN_TRACE_ID | KNOWN_PARENT_ID;
  }
  words.known = known;
  return words;
}

function copyTraceId(from: IdWords, to: IdWords): void {
  to.t0 = from.t0;
  to.t1 = from.t1;
  to.t2 = from.t2;
  to.t3 = from.t3;
}

import { rememberValidIds } from './span-context.js';

// One getRandomValues call per 256 ids instead of one per id; the call dominates the cost of an id.
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE;
let lastAt = 0;

/** Lowercase hex digit char codes by value. */
const DIGIT = new Uint8Array(16).map((_, i) => '0123456789abcdef'.charCodeAt(i));

/** Where the next `bytes` random bytes start in the pool, refilling it when they do not fit. */
function take(bytes: number): number {
  if (offset + bytes > POOL_SIZE) {
    globalThis.crypto.getRandomValues(pool);
    offset = 0;
  }
  const at = offset;
  offset += bytes;
  return at;
}

/** `take(bytes)`, drawing again until the bytes are not all zero. */
function takeNonZero(bytes: number): number {
  for (;;) {
    const at = take(bytes);
    let any = 0;
    for (let i = at; i < at + bytes; i++) any |= pool[i]!;
    // An all-zero id is invalid in every format (W3C Trace Context §3.2.2.3/§3.2.2.4).
    if (any !== 0) {
      lastAt = at;
      return at;
    }
  }
}

function hi(i: number): number {
  return DIGIT[pool[i]! >> 4]!;
}

function lo(i: number): number {
  return DIGIT[pool[i]! & 15]!;
}

// String.fromCharCode with every digit at once builds one flat string; appending byte by byte made a rope of
// pieces that V8 had to flatten again on first read (together 3× the cost of the id).
// biome-ignore format: one row per four bytes
function hex8(a: number): string {
  return String.fromCharCode(
    hi(a), lo(a), hi(a + 1), lo(a + 1), hi(a + 2), lo(a + 2), hi(a + 3), lo(a + 3),
    hi(a + 4), lo(a + 4), hi(a + 5), lo(a + 5), hi(a + 6), lo(a + 6), hi(a + 7), lo(a + 7),
  );
}

// biome-ignore format: one row per four bytes
function hex16(a: number): string {
  return String.fromCharCode(
    hi(a), lo(a), hi(a + 1), lo(a + 1), hi(a + 2), lo(a + 2), hi(a + 3), lo(a + 3),
    hi(a + 4), lo(a + 4), hi(a + 5), lo(a + 5), hi(a + 6), lo(a + 6), hi(a + 7), lo(a + 7),
    hi(a + 8), lo(a + 8), hi(a + 9), lo(a + 9), hi(a + 10), lo(a + 10), hi(a + 11), lo(a + 11),
    hi(a + 12), lo(a + 12), hi(a + 13), lo(a + 13), hi(a + 14), lo(a + 14), hi(a + 15), lo(a + 15),
  );
}

/** 32 lowercase hex characters, never all zero; fully random, so the W3C Level 2 RANDOM flag may be set. */
export function generateTraceId(): string {
  const id = hex16(takeNonZero(16));
  rememberValidIds(id, undefined);
  return id;
}

/** 16 lowercase hex characters, never all zero. */
export function generateSpanId(): string {
  const id = hex8(takeNonZero(8));
  rememberValidIds(undefined, id);
  return id;
}

/**
 * Word `index` of the id `generateTraceId` or `generateSpanId` returned last: its bytes as big-endian 32-bit words
 * (4 of a trace id, 2 of a span id), each a signed int32. For exporters that send ids as bytes (OTLP protobuf),
 * which keep these few numbers instead of decoding the hex again. Read before generating another id.
 */
export function lastIdWord(index: number): number {
  const at = lastAt + 4 * index;
  return (pool[at]! << 24) | (pool[at + 1]! << 16) | (pool[at + 2]! << 8) | pool[at + 3]!;
}

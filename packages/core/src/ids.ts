import { BYTE_TO_HEX } from './hex.js';
import { rememberValidIds } from './span-context.js';

// One getRandomValues call per 256 ids instead of one per id; the call dominates the cost of an id.
const POOL_SIZE = 4096;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE;

function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > POOL_SIZE) {
      globalThis.crypto.getRandomValues(pool);
      offset = 0;
    }
    let hex = '';
    let nonZero = 0;
    for (let i = offset, end = offset + bytes; i < end; i++) {
      const b = pool[i]!;
      nonZero |= b;
      hex += BYTE_TO_HEX[b]!;
    }
    offset += bytes;
    // An all-zero id is invalid in every format (W3C Trace Context §3.2.2.3/§3.2.2.4); draw again.
    if (nonZero !== 0) return hex;
  }
}

/** 32 lowercase hex characters, never all zero; fully random, so the W3C Level 2 RANDOM flag may be set. */
export function generateTraceId(): string {
  const id = randomHex(16);
  rememberValidIds(id, undefined);
  return id;
}

/** 16 lowercase hex characters, never all zero. */
export function generateSpanId(): string {
  const id = randomHex(8);
  rememberValidIds(undefined, id);
  return id;
}

/** Lowercase hex digit → value, -1 for anything else (uppercase included: W3C Trace Context §3.2.2 HEXDIGLC). */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_VALUE[0x30 + i] = i;
for (let i = 0; i < 6; i++) HEX_VALUE[0x61 + i] = 10 + i;

/** Byte → two lowercase hex characters. */
export const BYTE_TO_HEX: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
);

/** Value of one lowercase hex character code, or -1. */
export function hexValue(code: number): number {
  return code < 128 ? HEX_VALUE[code]! : -1;
}

/**
 * True when `s[start, end)` is lowercase hex and not all zeros: the rule every trace and span id
 * in every format we read shares (an all-zero id means "absent").
 */
export function isHexId(s: string, start: number, end: number): boolean {
  let nonZero = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? HEX_VALUE[c]! : -1;
    if (v < 0) return false;
    nonZero |= v;
  }
  return nonZero !== 0 && end > start;
}

/** True when `s[start, end)` is lowercase hex (zeros allowed). */
export function isHex(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || HEX_VALUE[c]! < 0) return false;
  }
  return true;
}

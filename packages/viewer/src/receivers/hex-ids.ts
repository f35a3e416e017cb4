const HEX = '0123456789abcdef';

export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    out += HEX[byte >> 4]! + HEX[byte & 15]!;
  }
  return out;
}

/** True for `length` lowercase or uppercase hex digits that are not all zero (W3C Trace Context §3.2.2.3/4). */
export function isValidHexId(id: string, length: number): boolean {
  if (id.length !== length) return false;
  let nonZero = false;
  for (let i = 0; i < length; i++) {
    const c = id.charCodeAt(i);
    const digit = (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
    if (!digit) return false;
    if (c !== 48) nonZero = true;
  }
  return nonZero;
}

/**
 * Whether header name `name` is `lower` in any case. HTTP field names are ASCII tokens compared without regard to
 * case (RFC 9110 §5.1), so only A–Z fold; compared by char code, without the copy `toLowerCase` makes.
 */
export function isHeaderName(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = name.charCodeAt(i);
    const l = lower.charCodeAt(i);
    if (c !== l && !(l >= 0x61 && l <= 0x7a && (c | 0x20) === l)) return false;
  }
  return true;
}

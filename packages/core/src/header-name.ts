/**
 * Whether header name `name`, lowercased, is `lower`. HTTP field names are ASCII tokens compared without regard to
 * case (RFC 9110 §5.1), so only A–Z fold; compared by char code, without the copy `toLowerCase` makes. A `lower`
 * holding an uppercase letter matches no name (as `name.toLowerCase() === lower` would not): a baggage key such as
 * Jaeger's `uberctx-userId` keeps its case, and must not take the place of `uberctx-USERID`.
 */
export function isHeaderName(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

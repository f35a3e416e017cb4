/** Optional whitespace (RFC 9110 §5.6.3): a space or a horizontal tab. */
export function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** `s` without optional whitespace at either end; `s` itself when it has none. */
export function trimOws(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOws(s.charCodeAt(start))) start++;
  while (end > start && isOws(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

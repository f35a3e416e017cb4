/** RFC 9110 §5.6.2 token: what a field name or a method may be. */
export function isHttpToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) ||
      (c >= 48 && c <= 57) ||
      (c >= 65 && c <= 90) ||
      "!#$%&'*+-.^_`|~".includes(text[i]!);
    if (!ok) return false;
  }
  return true;
}

/**
 * Text from the network or from OpenSSL (a collector's reply, an error's message) as one log line: each run of
 * control characters, line breaks too, a space; cut to `max` characters.
 */
export function printable(text: string, max = Number.POSITIVE_INFINITY): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

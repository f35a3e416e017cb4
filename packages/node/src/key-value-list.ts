/**
 * Parses `key1=value1,key2=value2` with percent-encoded keys and values, the format of `OTEL_RESOURCE_ATTRIBUTES`
 * and `OTEL_EXPORTER_OTLP_HEADERS` (OpenTelemetry SDK environment variables; W3C Baggage octet rules). Keys and
 * values are trimmed; a malformed entry throws a TypeError naming `source`.
 */
export function parseKeyValueList(value: string | undefined, source: string): Record<string, string> {
  const result: Record<string, string> = {};
  if (value === undefined || value.trim() === '') return result;
  for (const entry of value.split(',')) {
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    const key = eq === -1 ? '' : entry.slice(0, eq).trim();
    if (key === '') {
      throw new TypeError(`${source}: expected comma-separated key=value pairs, got entry "${entry.trim()}"`);
    }
    result[percentDecode(key, source)] = percentDecode(entry.slice(eq + 1).trim(), source);
  }
  return result;
}

function percentDecode(text: string, source: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TypeError(`${source}: invalid percent-encoding in "${text}" (expected %XX escapes)`);
  }
}

/**
 * Parses `key1=value1,key2=value2` with percent-encoded keys and values, the format of `OTEL_RESOURCE_ATTRIBUTES`
 * and `OTEL_EXPORTER_OTLP_HEADERS` (OpenTelemetry SDK environment variables; W3C Baggage octet rules). Keys and
 * values are trimmed; a malformed entry throws a TypeError naming `source`, or, given `skipEntry`, is passed to it
 * and left out.
 */
export function parseKeyValueList(
  value: string | undefined,
  source: string,
  skipEntry?: (problem: string) => void,
): Record<string, string> {
  const result: Record<string, string> = {};
  if (value === undefined || value.trim() === '') return result;
  const entries = value.split(',');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    const key = eq === -1 ? '' : entry.slice(0, eq).trim();
    // The entry is never quoted: OTEL_EXPORTER_OTLP_HEADERS holds credentials (`Authorization: Bearer …`, written
    // with a colon by mistake, is such an entry), and warnings end up in logs.
    try {
      if (key === '') {
        throw new TypeError(
          `${source}: expected comma-separated key=value pairs; entry ${i + 1} has no key=`,
        );
      }
      const where = `entry ${i + 1}`;
      result[percentDecode(key, source, where)] = percentDecode(entry.slice(eq + 1).trim(), source, where);
    } catch (error) {
      if (skipEntry === undefined) throw error;
      skipEntry((error as Error).message);
    }
  }
  return result;
}

function percentDecode(text: string, source: string, where: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TypeError(`${source}: invalid percent-encoding in ${where} (expected %XX escapes)`);
  }
}

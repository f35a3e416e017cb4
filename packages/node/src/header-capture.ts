import { isHttpToken } from './http-token.js';
import type { Attributes } from './span-data.js';

/** Most header names one capture list may hold: each becomes an attribute on every span of the app. */
export const MAX_CAPTURED_HEADERS = 32;

/** One header to record, with its attribute key built once per app. */
export interface HeaderCapture {
  readonly header: string;
  readonly attribute: string;
}

// Credentials: recording them would leak sessions and keys into every trace backend. Beside HTTP's own, the API-key
// and token headers services commonly take (`x-api-key`, AWS's session token, CSRF tokens).
const SENSITIVE = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
  'x-access-token',
  'x-amz-security-token',
  'x-csrf-token',
  'x-xsrf-token',
]);

/**
 * The headers `names` lists, lowercased, each once, credentials left out unless `allowSensitive`. Throws a
 * TypeError naming `option` for an entry that is no header name, and a RangeError past MAX_CAPTURED_HEADERS.
 */
export function compileHeaderList(
  option: string,
  names: readonly unknown[],
  prefix: string,
  allowSensitive: boolean,
): HeaderCapture[] {
  if (!Array.isArray(names)) throw new TypeError(`${option} must be an array of header names`);
  const seen = new Set<string>();
  const out: HeaderCapture[] = [];
  for (const name of names) {
    if (typeof name !== 'string' || !isHttpToken(name)) {
      throw new TypeError(`${option} entries must be header names; got ${JSON.stringify(name)}`);
    }
    const header = name.toLowerCase();
    if (seen.has(header) || (!allowSensitive && SENSITIVE.has(header))) continue;
    seen.add(header);
    // Semantic conventions: `http.request.header.<key>` with the lowercase name, value an array of strings.
    out.push({ header, attribute: prefix + header });
  }
  if (out.length > MAX_CAPTURED_HEADERS) {
    throw new RangeError(`${option} may list at most ${MAX_CAPTURED_HEADERS} headers; got ${out.length}`);
  }
  return out;
}

function toStrings(value: unknown): string[] | undefined {
  if (typeof value === 'string') return [value];
  if (typeof value === 'number') return [String(value)];
  if (Array.isArray(value) && value.length > 0) return value.map(String);
  return undefined;
}

/** Adds the listed request headers (Node `IncomingHttpHeaders`) to `attributes`. */
export function captureRequestHeaders(
  list: readonly HeaderCapture[],
  headers: Record<string, string | string[] | undefined>,
  attributes: Attributes,
): void {
  for (const { header, attribute } of list) {
    const value = toStrings(headers[header]);
    if (value !== undefined) attributes[attribute] = value;
  }
}

/** Adds the listed response headers, read through `getHeader` so headers set by any layer count. */
export function captureResponseHeaders(
  list: readonly HeaderCapture[],
  source: { getHeader(name: string): unknown },
  attributes: Attributes,
): void {
  for (const { header, attribute } of list) {
    const value = toStrings(source.getHeader(header));
    if (value !== undefined) attributes[attribute] = value;
  }
}

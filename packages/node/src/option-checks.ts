import { validateHeaderValue } from 'node:http';
import { isHttpToken } from './http-token.js';

/**
 * Configuration checks shared by code options and environment variables. Each throws a TypeError (wrong type) or
 * RangeError (out of range) whose message starts with `name` (an option path or a variable) and says what is accepted.
 */

export function checkInteger(value: unknown, name: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${name} must be an integer >= ${min}; got ${describe(value)}`);
  }
  if (value < min) throw new RangeError(`${name} must be an integer >= ${min}; got ${value}`);
  return value;
}

export function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean')
    throw new TypeError(`${name} must be true or false; got ${describe(value)}`);
  return value;
}

export function checkString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${name} must be a non-empty string; got ${describe(value)}`);
  }
  return value;
}

export function checkOneOf<T extends string>(value: unknown, name: string, accepted: readonly T[]): T {
  if (typeof value !== 'string') {
    throw new TypeError(`${name} must be one of ${accepted.join(', ')}; got ${describe(value)}`);
  }
  if (!(accepted as readonly string[]).includes(value)) {
    throw new RangeError(`${name} must be one of ${accepted.join(', ')}; got ${describe(value)}`);
  }
  return value as T;
}

/**
 * Throws for a key `accepted` does not list: a misspelt option (`exporter` for `exporters`) would otherwise be
 * ignored without a word, and the app would run with a setting it did not ask for. `what` names the keys in the
 * message (`unknown otlp option 'endpont'; accepted: ...`).
 */
export function checkKnownKeys(value: object, what: string, accepted: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!accepted.includes(key)) {
      throw new TypeError(`unknown ${what} '${key}'; accepted: ${accepted.join(', ')}`);
    }
  }
}

/**
 * The keys of an options interface, written as `{ key: true, ... }` so that TypeScript fails the build when a key
 * is added to the interface and not here, or listed here and not there.
 */
export function optionKeys<T>(keys: Record<keyof T, true>): readonly string[] {
  return Object.keys(keys);
}

/** A comma list from an environment variable (`a, b,c`), blanks dropped; empty or unset gives none. */
export function commaList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** An absolute http: or https: URL, returned as given. */
export function checkHttpUrl(value: unknown, name: string): string {
  const text = checkString(value, name);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(
      `${name} must be an absolute http:// or https:// URL; got ${describe(withoutUserinfo(text))}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RangeError(
      `${name} must be an absolute http:// or https:// URL; got ${describe(withoutUserinfo(text))}`,
    );
  }
  return text;
}

/**
 * A URL's `user:password@` masked for a message: an endpoint written without its scheme (`user:token@collector:4318`)
 * parses as the scheme `user:`, so the credential would be quoted whole in a log. Everything up to the last `@` is
 * masked, since a password written unescaped may hold `/`, `#` or `@`.
 */
function withoutUserinfo(text: string): string {
  const at = text.lastIndexOf('@');
  if (at === -1) return text;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text)?.[0] ?? '';
  return `${scheme}***${text.slice(at)}`;
}

export function checkStringRecord(value: unknown, name: string): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object of string values; got ${describe(value)}`);
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string')
      throw new TypeError(`${name}.${key} must be a string; got ${describe(item)}`);
  }
  return { ...(value as Record<string, string>) };
}

/**
 * Headers Node will send: names are HTTP tokens and values hold no control characters nor characters past U+00FF
 * (RFC 9110 §5.1, §5.5). Checked here because Node throws on them per request, which would fail every export.
 * The value is never quoted in the error: it is often a secret.
 */
export function checkHeaders(headers: Record<string, string>, name: string): Record<string, string> {
  for (const [key, value] of Object.entries(headers)) checkHeader(key, value, name);
  return headers;
}

/** One header of `checkHeaders`: a name that is an HTTP token and a value Node would send. */
export function checkHeader(key: string, value: string, name: string): void {
  if (!isHttpToken(key)) throw new TypeError(`${name}: ${describe(key)} is not a valid HTTP header name`);
  try {
    validateHeaderValue(key, value);
  } catch {
    throw new TypeError(
      `${name}: the value of ${describe(key)} is not a valid HTTP header value (no control characters, nothing past U+00FF)`,
    );
  }
}

/** How long a quoted value may be in a message: a whole mistyped variable of kilobytes would make one log line. */
const QUOTED_LENGTH = 100;

export function describe(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= QUOTED_LENGTH) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, QUOTED_LENGTH))}… (${value.length} characters)`;
  }
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

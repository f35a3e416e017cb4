import { hexValue } from './hex.js';
import { trimOws } from './ows.js';

/** W3C Baggage (2021 working draft) "Limits": at most 180 list members and 8192 bytes per `baggage-string`. */
export const MAX_BAGGAGE_MEMBERS = 180;
export const MAX_BAGGAGE_BYTES = 8192;

export interface BaggageEntry {
  /** The decoded value (W3C Baggage "value": percent-encoded UTF-8 on the wire). */
  readonly value: string;
  /** Properties as written after the value, without the leading ";" (e.g. `p1;k=v`); opaque to the spec. */
  readonly metadata?: string | undefined;
}

// RFC 7230 §3.2.6 tchar, the alphabet of baggage keys (W3C Baggage "key").
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** True when `key` is an RFC 7230 token, the grammar of baggage keys and property keys. */
export function isBaggageKey(key: string): boolean {
  if (key.length === 0) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

// baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E (no CTLs, space, DQUOTE, ",", ";", "\")
function isBaggageOctets(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x22 || c === 0x2c || c === 0x3b || c === 0x5c) return false;
  }
  return true;
}

/**
 * Normalises a property list (`p1; k = v;p2`) to `p1;k=v;p2`, or returns undefined when a property does not
 * match `property = key OWS "=" OWS value / key OWS` (W3C Baggage "property").
 */
function normaliseMetadata(raw: string): string | undefined {
  let out = '';
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    const key = trimOws(eq === -1 ? part : part.slice(0, eq));
    if (!isBaggageKey(key)) return undefined;
    let property = key;
    if (eq !== -1) {
      const value = trimOws(part.slice(eq + 1));
      if (!isBaggageOctets(value)) return undefined;
      property += `=${value}`;
    }
    out += out === '' ? property : `;${property}`;
  }
  return out;
}

/** False for strings with a lone UTF-16 surrogate, which have no UTF-8 form and make encodeURIComponent throw. */
function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return false;
    const next = s.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}

let utf8: TextDecoder | undefined;

/**
 * Percent-decodes baggage-octets whose escapes are well formed but do not spell UTF-8. W3C Baggage "value":
 * such sequences MUST be replaced with U+FFFD, so the member is kept. Undefined for a malformed escape.
 */
function decodeLenient(raw: string): string | undefined {
  const bytes = new Uint8Array(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 0x25) {
      bytes[n++] = c;
      continue;
    }
    // Escapes may be uppercase (`%C3`); `| 0x20` lowercases A-F and maps no other baggage-octet onto a hex digit.
    const hi = hexValue(raw.charCodeAt(i + 1) | 0x20);
    const lo = hexValue(raw.charCodeAt(i + 2) | 0x20);
    if (hi < 0 || lo < 0) return undefined;
    bytes[n++] = (hi << 4) | lo;
    i += 2;
  }
  // Not fatal: every ill-formed sequence decodes as U+FFFD (WHATWG Encoding).
  utf8 ??= new TextDecoder();
  return utf8.decode(bytes.subarray(0, n));
}

function decodeValue(raw: string): string | undefined {
  if (!isBaggageOctets(raw)) return undefined;
  if (raw.indexOf('%') === -1) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    // Invalid UTF-8 becomes U+FFFD; a malformed escape ("%zz", a bare "%") drops the entry, as W3C Baggage
    // "Mutating baggage" allows for a value not in the format.
    return decodeLenient(raw);
  }
}

// Serialized members are ASCII (values are percent-encoded), so their length in characters is in bytes.
function serializeMember(key: string, entry: BaggageEntry): string {
  // encodeURIComponent leaves only baggage-octets and "%", so the value needs no further checks.
  const member = `${key}=${encodeURIComponent(entry.value)}`;
  return entry.metadata ? `${member};${entry.metadata}` : member;
}

/** Marks baggage made by any copy of this package: see `Baggage[Symbol.hasInstance]`. */
const BRAND = Symbol.for('tracewire.core.Baggage');

/**
 * Immutable W3C Baggage. Keys are unique (a later duplicate in a header replaces the earlier value). Input
 * over the limits is trimmed, never thrown on: members past 180 are dropped, and a member that would take the
 * header past 8192 bytes is left out.
 */
export class Baggage {
  /**
   * The ES module and CommonJS builds of this package can both be loaded in one process (an ES module app whose
   * CommonJS dependency requires an adapter): `instanceof` then accepts baggage either copy made, so one copy's
   * propagators inject what the other's extracted. Only public members are used across copies.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && BRAND in value;
  }

  readonly #entries: ReadonlyMap<string, BaggageEntry>;

  private constructor(entries: ReadonlyMap<string, BaggageEntry>) {
    this.#entries = entries;
  }

  static empty(): Baggage {
    EMPTY ??= new Baggage(new Map());
    return EMPTY;
  }

  /**
   * Builds baggage from plain values, skipping invalid entries as `set` does, in one pass: a propagator reading
   * many entries one header each (Jaeger's `uberctx-*`) builds its baggage once rather than once per entry.
   */
  static from(entries: Record<string, string | BaggageEntry>): Baggage {
    const map = new Map<string, BaggageEntry>();
    for (const [key, v] of Object.entries(entries)) {
      const entry = typeof v === 'string' ? validEntry(key, v) : validEntry(key, v.value, v.metadata);
      if (entry === undefined || (!map.has(key) && map.size >= MAX_BAGGAGE_MEMBERS)) continue;
      map.set(key, entry);
    }
    return map.size === 0 ? Baggage.empty() : new Baggage(map);
  }

  /**
   * Parses one or several `baggage` headers (several are combined per RFC 7230 §3.2.2, as W3C Baggage allows).
   * Invalid members are dropped one by one (W3C Baggage "Mutating baggage"); never throws.
   */
  static parse(header: string | readonly string[] | undefined): Baggage {
    let value: string;
    if (typeof header === 'string') value = header;
    else if (Array.isArray(header)) value = header.filter((h) => typeof h === 'string').join(',');
    else return Baggage.empty();

    const entries = new Map<string, BaggageEntry>();
    let bytes = -1;
    for (const rawMember of value.split(',')) {
      if (entries.size >= MAX_BAGGAGE_MEMBERS) break;
      const semi = rawMember.indexOf(';');
      const pair = semi === -1 ? rawMember : rawMember.slice(0, semi);
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      const key = trimOws(pair.slice(0, eq));
      if (!isBaggageKey(key)) continue;
      const decoded = decodeValue(trimOws(pair.slice(eq + 1)));
      if (decoded === undefined) continue;
      let metadata: string | undefined;
      if (semi !== -1) {
        metadata = normaliseMetadata(rawMember.slice(semi + 1));
        if (metadata === undefined) continue;
      }
      const entry: BaggageEntry = metadata === undefined ? { value: decoded } : { value: decoded, metadata };
      const size = serializeMember(key, entry).length + 1;
      if (bytes + size > MAX_BAGGAGE_BYTES) continue;
      bytes += size;
      entries.set(key, entry);
    }
    return entries.size === 0 ? Baggage.empty() : new Baggage(entries);
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): BaggageEntry | undefined {
    return this.#entries.get(key);
  }

  entries(): IterableIterator<[string, BaggageEntry]> {
    return this.#entries.entries();
  }

  /**
   * Returns baggage with `key` set. An invalid key or metadata, a value with a lone surrogate (no UTF-8 form),
   * or a new key past 180 members returns this baggage unchanged: request-time code never throws.
   */
  set(key: string, value: string, metadata?: string): Baggage {
    const entry = validEntry(key, value, metadata);
    if (entry === undefined) return this;
    if (!this.#entries.has(key) && this.#entries.size >= MAX_BAGGAGE_MEMBERS) return this;
    const entries = new Map(this.#entries);
    entries.set(key, entry);
    return new Baggage(entries);
  }

  delete(key: string): Baggage {
    if (!this.#entries.has(key)) return this;
    const entries = new Map(this.#entries);
    entries.delete(key);
    return new Baggage(entries);
  }

  /** Entries of `other` win over entries of this baggage with the same key. */
  merge(other: Baggage): Baggage {
    if (other.size === 0) return this;
    if (this.size === 0) return other;
    const entries = new Map(this.#entries);
    for (const [k, v] of other.entries()) {
      if (entries.has(k) || entries.size < MAX_BAGGAGE_MEMBERS) entries.set(k, v);
    }
    return new Baggage(entries);
  }

  /** The header value; members that would take it past 8192 bytes are left out. */
  serialize(): string {
    let out = '';
    for (const [key, entry] of this.#entries) {
      const member = serializeMember(key, entry);
      const next = out === '' ? member : `${out},${member}`;
      if (next.length > MAX_BAGGAGE_BYTES) continue;
      out = next;
    }
    return out;
  }

  toString(): string {
    return this.serialize();
  }
}

/** An entry as baggage keeps it; undefined for an invalid key or metadata, or a value with a lone surrogate. */
function validEntry(key: string, value: unknown, metadata?: string): BaggageEntry | undefined {
  if (!isBaggageKey(key) || typeof value !== 'string' || !isWellFormed(value)) return undefined;
  if (metadata === undefined || metadata === '') return { value };
  const meta = normaliseMetadata(metadata);
  return meta === undefined ? undefined : { value, metadata: meta };
}

let EMPTY: Baggage | undefined;

Object.defineProperty(Baggage.prototype, BRAND, { value: true });

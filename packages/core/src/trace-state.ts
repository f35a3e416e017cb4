import { isOws } from './ows.js';

let EMPTY: TraceState | undefined;

/** W3C Trace Context §3.3.1.3: at most 32 list members. */
const MAX_MEMBERS = 32;
/** W3C Trace Context §3.3.1.5: vendors propagate at least 512 characters; we propagate exactly that much. */
const MAX_LENGTH = 512;
/** §3.3.1.5: when truncating, entries longer than 128 characters go first. */
const LONG_ENTRY = 128;

// keychar of W3C Trace Context Level 2 §3.3.2.2.1: lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
function isKeyChar(c: number): boolean {
  return isLcAlphaOrDigit(c) || c === 0x5f || c === 0x2d || c === 0x2a || c === 0x2f || c === 0x40;
}

function isLcAlphaOrDigit(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
}

/**
 * Key grammar of W3C Trace Context Level 2 (§3.3.2.2.1): `( lcalpha / DIGIT ) 0*255( keychar )`, where keychar
 * includes "@". Level 1's split into a tenant (up to 241 characters) and a system (up to 14, starting with a letter)
 * is gone from it; every Level 1 key still matches, so a vendor's entry under either level is kept and forwarded.
 */
export function isValidTraceStateKey(key: string): boolean {
  const len = key.length;
  if (len === 0 || len > 256 || !isLcAlphaOrDigit(key.charCodeAt(0))) return false;
  for (let i = 1; i < len; i++) if (!isKeyChar(key.charCodeAt(i))) return false;
  return true;
}

/**
 * §3.3.1.3.2 value grammar: `0*255(chr) nblk-chr`, chr = %x20 / nblk-chr,
 * nblk-chr = %x21-2B / %x2D-3C / %x3E-7E (printable ASCII without "," and "=", not ending in a space).
 */
export function isValidTraceStateValue(value: string): boolean {
  const len = value.length;
  if (len === 0 || len > 256 || value.charCodeAt(len - 1) === 0x20) return false;
  for (let i = 0; i < len; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x2c || c === 0x3d) return false;
  }
  return true;
}

/** Keys and values in order, left (most recent) first. */
type Members = readonly (readonly [string, string])[];

/**
 * §3.3.1.5 truncation: drop whole entries, those longer than 128 characters first, then from the end,
 * until the combined header fits in 512 characters.
 */
function truncate(members: Members): Members {
  let length = -1;
  for (const [k, v] of members) length += k.length + v.length + 2;
  if (length <= MAX_LENGTH) return members;
  const kept = members.slice();
  for (let i = kept.length - 1; i >= 0 && length > MAX_LENGTH; i--) {
    const [k, v] = kept[i]!;
    const entry = k.length + v.length + 1;
    if (entry > LONG_ENTRY) {
      kept.splice(i, 1);
      length -= entry + 1;
    }
  }
  while (length > MAX_LENGTH && kept.length > 0) {
    const [k, v] = kept.pop()!;
    length -= k.length + v.length + 2;
  }
  return kept;
}

/** Marks trace state made by any copy of this package: see `TraceState[Symbol.hasInstance]`. */
const BRAND = Symbol.for('tracewire.core.TraceState');

/**
 * Immutable vendor list of the W3C `tracestate` header (Trace Context §3.3). Every mutation returns a new
 * instance; modified and new keys move to the front (§3.5 "Mutating the tracestate Field").
 */
export class TraceState {
  /**
   * The ES module and CommonJS builds of this package can both be loaded in one process (an ES module app whose
   * CommonJS dependency requires an adapter): `instanceof` then accepts trace state either copy made, so one copy's
   * propagators inject what the other's extracted. Only public members are used across copies.
   */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && BRAND in value;
  }

  readonly #members: Members;
  #serialized: string | undefined;

  private constructor(members: Members) {
    this.#members = truncate(members);
  }

  static empty(): TraceState {
    EMPTY ??= new TraceState([]);
    return EMPTY;
  }

  /**
   * Parses one header value or several (combined with "," per RFC 7230 §3.2.2, as §3.3.1.3 requires).
   * Returns `undefined` when the header is absent, empty, or invalid anywhere: an invalid key or value, a
   * duplicate key, or more than 32 members. The caller keeps the traceparent either way (§3.3).
   */
  static parse(header: string | readonly string[] | undefined): TraceState | undefined {
    let value: string;
    if (typeof header === 'string') value = header;
    else if (Array.isArray(header)) {
      for (const part of header) if (typeof part !== 'string') return undefined;
      value = header.join(',');
    } else return undefined;

    const members: [string, string][] = [];
    const len = value.length;
    // Whether the header is already written as serialize() would write it (the usual case: one vendor's entries,
    // no spaces), so that injecting it again needs no string built.
    let canonical = typeof header === 'string' && len <= MAX_LENGTH;
    let start = 0;
    while (start <= len) {
      let end = value.indexOf(',', start);
      if (end === -1) end = len;
      let s = start;
      let e = end;
      while (s < e && isOws(value.charCodeAt(s))) s++;
      while (e > s && isOws(value.charCodeAt(e - 1))) e--;
      // §3.3.1.3: empty and whitespace-only list members are allowed and skipped.
      if (e > s) {
        const eq = value.indexOf('=', s);
        if (eq === -1 || eq >= e) return undefined;
        const key = value.slice(s, eq);
        const memberValue = value.slice(eq + 1, e);
        if (!isValidTraceStateKey(key) || !isValidTraceStateValue(memberValue)) return undefined;
        if (members.length === MAX_MEMBERS) return undefined;
        for (const [k] of members) if (k === key) return undefined;
        members.push([key, memberValue]);
        if (s !== start || e !== end) canonical = false;
      } else canonical = false;
      start = end + 1;
    }
    if (members.length === 0) return undefined;
    const state = new TraceState(members);
    if (canonical) state.#serialized = value;
    return state;
  }

  /** Number of list members. */
  get size(): number {
    return this.#members.length;
  }

  get(key: string): string | undefined {
    for (const [k, v] of this.#members) if (k === key) return v;
    return undefined;
  }

  /** Key/value pairs, most recent first. */
  entries(): IterableIterator<readonly [string, string]> {
    return this.#members[Symbol.iterator]();
  }

  /**
   * Returns a state with `key` set to `value` at the front. An invalid key or value returns this state
   * unchanged (request-time code never throws). Past 32 members the rightmost member is dropped.
   */
  set(key: string, value: string): TraceState {
    if (!isValidTraceStateKey(key) || !isValidTraceStateValue(value)) return this;
    const members: [string, string][] = [[key, value]];
    for (const m of this.#members) if (m[0] !== key) members.push(m as [string, string]);
    if (members.length > MAX_MEMBERS) members.length = MAX_MEMBERS;
    return new TraceState(members);
  }

  unset(key: string): TraceState {
    const members = this.#members.filter((m) => m[0] !== key);
    return members.length === this.#members.length ? this : new TraceState(members);
  }

  /** The header value: members joined with "," and no optional whitespace; at most 512 characters. */
  serialize(): string {
    if (this.#serialized === undefined) {
      let out = '';
      for (const [k, v] of this.#members) out += out === '' ? `${k}=${v}` : `,${k}=${v}`;
      this.#serialized = out;
    }
    return this.#serialized;
  }

  toString(): string {
    return this.serialize();
  }
}

Object.defineProperty(TraceState.prototype, BRAND, { value: true });

import { isHeaderName } from './header-name.js';

/** Reads header values from a carrier. Returns `undefined` when the key is absent. */
export interface CarrierGetter<C = unknown> {
  get(carrier: C, key: string): string | string[] | undefined;
  keys(carrier: C): string[];
}

/** Writes a header value into a carrier. */
export interface CarrierSetter<C = unknown> {
  set(carrier: C, key: string, value: string): void;
}

interface HeadersLike {
  get(name: string): string | null;
  set(name: string, value: string): void;
  keys(): Iterable<string>;
}

function isHeadersLike(carrier: object): carrier is HeadersLike {
  return typeof (carrier as Partial<HeadersLike>).get === 'function';
}

/** A carrier value as a header value: strings and string arrays as they are, numbers as strings. */
export function toHeaderValue(value: unknown): string | string[] | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const v of value) if (typeof v !== 'string') return value.filter((x) => typeof x === 'string');
    return value as string[];
  }
  // Node's OutgoingMessage.getHeader and hand-written objects may hold numbers.
  if (typeof value === 'number') return String(value);
  return undefined;
}

/**
 * The carrier as a record when `defaultGetter` reads it by property (not fetch `Headers` or a Map), else
 * undefined. Lets a propagator walk the headers once with for-in instead of asking for each by name.
 */
export function plainRecord(carrier: unknown): Record<string, unknown> | undefined {
  if (carrier === null || typeof carrier !== 'object' || isHeadersLike(carrier)) return undefined;
  return carrier as Record<string, unknown>;
}

/**
 * Reads from Node `IncomingHttpHeaders` (lowercase keys, `string | string[]`), the fetch `Headers` class (which
 * joins repeated headers with ", "), anything else with `.get` (a `Map`, gRPC `Metadata`: arrays kept) and plain
 * objects. Keys may be in any case (HTTP field names are case-insensitive, RFC 9110 §5.1). `key` must be lowercase.
 */
export const defaultGetter: CarrierGetter<unknown> = {
  get(carrier, key) {
    if (carrier === null || typeof carrier !== 'object') return undefined;
    const record = carrier as Record<string, unknown>;
    const direct = record[key];
    if (typeof direct === 'string') return direct;
    if (isHeadersLike(carrier)) return getFromHeadersLike(carrier, key);
    if (direct !== undefined) return toHeaderValue(direct);
    // Slow path for objects written by hand ("Traceparent"); Node's own header objects never get here
    // with a present header because Node lowercases names.
    for (const k in record) {
      if (isHeaderName(k, key)) return toHeaderValue(record[k]);
    }
    return undefined;
  },
  keys(carrier) {
    if (carrier === null || typeof carrier !== 'object') return [];
    if (isHeadersLike(carrier)) return typeof carrier.keys === 'function' ? Array.from(carrier.keys()) : [];
    return Object.keys(carrier);
  },
};

/**
 * fetch `Headers` matches names in any case and joins repeated values; a `Map` or gRPC `Metadata` (whose `get`
 * returns every value as an array) may hold a name in another case, so a miss there walks its keys.
 */
function getFromHeadersLike(carrier: HeadersLike, key: string): string | string[] | undefined {
  const value = toHeaderValue(carrier.get(key));
  if (value !== undefined || isFetchHeaders(carrier) || typeof carrier.keys !== 'function') return value;
  for (const k of carrier.keys()) {
    if (typeof k === 'string' && isHeaderName(k, key)) {
      return toHeaderValue(carrier.get(k));
    }
  }
  return undefined;
}

function isFetchHeaders(carrier: object): boolean {
  return typeof Headers === 'function' && carrier instanceof Headers;
}

/**
 * Reads Node's `IncomingHttpHeaders` (`req.headers`), whose names Node has already lowercased: a name that is not
 * there under its lowercase spelling is absent, so a miss costs one property lookup instead of the case-insensitive
 * scan `defaultGetter` needs for hand-written objects. Only for carriers whose names are all lowercase.
 */
export const lowercaseHeadersGetter: CarrierGetter<unknown> = {
  get(carrier, key) {
    if (carrier === null || typeof carrier !== 'object') return undefined;
    return recordValue((carrier as Record<string, unknown>)[key]);
  },
  keys(carrier) {
    return carrier === null || typeof carrier !== 'object' ? [] : Object.keys(carrier);
  },
};

/**
 * The carrier as a record when it is read through `lowercaseHeadersGetter`, so a propagator can read each header
 * with its own property access (`record.traceparent`): one inline cache per header name at its own site, where
 * calls through the shared getter funnel every name through one keyed lookup that V8 soon treats as megamorphic.
 */
export function lowercaseRecord<C>(carrier: C, get: CarrierGetter<C>): Record<string, unknown> | undefined {
  if (get !== lowercaseHeadersGetter || carrier === null || typeof carrier !== 'object') return undefined;
  return carrier as Record<string, unknown>;
}

/** A header value read straight off a record, as the getters return it. */
export function recordValue(value: unknown): string | string[] | undefined {
  return typeof value === 'string' ? value : toHeaderValue(value);
}

/**
 * Writes into fetch `Headers` (or anything with `.set`), Node `OutgoingMessage` (`.setHeader`) and plain
 * objects (`carrier[key] = value`, replacing the name in any other case). It does not re-check values: every propagator builds its values from
 * validated ids and grammars, so none holds CR, LF or another control character. Never throws.
 */
export const defaultSetter: CarrierSetter<unknown> = {
  set(carrier, key, value) {
    if (carrier === null || typeof carrier !== 'object' || typeof value !== 'string') return;
    const c = carrier as {
      set?: (k: string, v: string) => void;
      setHeader?: (k: string, v: string) => void;
    };
    try {
      if (typeof c.set === 'function') c.set(key, value);
      else if (typeof c.setHeader === 'function') c.setHeader(key, value);
      else setInRecord(carrier as Record<string, unknown>, key, value);
    } catch {
      // Headers with an immutable guard, or a Node request whose headers were already sent
      // (ERR_HTTP_HEADERS_SENT): the request goes on without this header rather than failing.
    }
  },
};

/**
 * `record[key] = value`, removing the same name in any other case (`Traceparent`): the getters read names in any
 * case, and fetch would send both spellings as one joined value, which no receiver can parse. Stored first, so a
 * spelling that cannot be removed (a sealed carrier) does not cost the write. for-in walks the names without the
 * array `Object.keys` makes (on objects in fast mode), and costs less than looking `key` up first to skip the walk
 * (a megamorphic load: the names vary).
 */
function setInRecord(record: Record<string, unknown>, key: string, value: string): void {
  record[key] = value;
  for (const k in record) {
    if (k !== key && isHeaderName(k, key)) delete record[k];
  }
}

/**
 * One header value out of what a getter returned: a string as is, a one-element array's element. Several
 * values of a header that must appear once are ambiguous, so they read as absent.
 */
export function singleValue(value: string | string[] | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
  return undefined;
}

import type { CarrierSetter } from '@tracewire/core';
import {
  carriesActiveTrace,
  isReplacedHeader,
  lowercasePairs,
  withoutReplacedPairs,
} from './outgoing-forwarded.js';
import { type ClientCall, injectClientCall, isTraceHeader, type OutgoingState } from './outgoing-span.js';

/** Headers as `node:http` and `node:http2` take them: an object, or a flat `[name, value, ...]` list. */
export type HeaderRecord = Record<string | symbol, unknown>;
export type RawHeaders = string[];

/**
 * What the caller's own headers (an object, or a flat `[name, value, ...]` list) say of the trace: `'none'` carry no
 * trace header; `'forwarded'` carry the active trace (a proxy forwarding them, or set by hand), replaced by the
 * client span's; `'other'` carry another trace, set on purpose, and the call is left alone (outgoing-forwarded.ts).
 */
export function carriedTrace(state: OutgoingState, headers: unknown): 'none' | 'forwarded' | 'other' {
  if (!hasTraceHeader(state, headers)) return 'none';
  const named = Array.isArray(headers) ? lowercasePairs(headers) : (headers as object);
  return carriesActiveTrace(state, named) ? 'forwarded' : 'other';
}

function hasTraceHeader(state: OutgoingState, headers: unknown): boolean {
  if (headers == null || typeof headers !== 'object') return false;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i];
      if (typeof name === 'string' && isTraceHeader(state, name)) return true;
    }
    return false;
  }
  const record = headers as HeaderRecord;
  for (const name in record) {
    if (record[name] !== undefined && isTraceHeader(state, name)) return true;
  }
  return false;
}

/**
 * A copy of the caller's headers (never mutated: it may be frozen, or reused for the next call) with the call's
 * trace headers added. `forwarded`: the caller's own trace headers are dropped, the client span's replace them.
 * An object's symbol keys (`http2.sensitiveHeaders`) are kept.
 */
export function withTraceHeaders(
  state: OutgoingState,
  call: ClientCall,
  headers: object | undefined,
  forwarded: boolean,
): HeaderRecord | RawHeaders {
  if (Array.isArray(headers)) {
    const copy: RawHeaders = forwarded ? withoutReplacedPairs(state, headers) : [...headers];
    injectClientCall(state, call, { headers: copy, taken: rawNames(copy) }, rawHeadersSetter);
    return copy;
  }
  const copy: HeaderRecord = { ...(headers as HeaderRecord | undefined) };
  if (forwarded) {
    for (const name in copy) if (isReplacedHeader(state, name)) delete copy[name];
  }
  injectClientCall(state, call, { headers: copy, taken: objectNames(copy) }, headersObjectSetter);
  return copy;
}

/** Headers being built for one call, with every name already in them lowercased once. */
interface HeadersCarrier<H> {
  readonly headers: H;
  readonly taken: Set<string>;
}

function objectNames(headers: HeaderRecord): Set<string> {
  const names = new Set<string>();
  for (const name in headers) names.add(name.toLowerCase());
  return names;
}

function rawNames(headers: RawHeaders): Set<string> {
  const names = new Set<string>();
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (typeof name === 'string') names.add(name.toLowerCase());
  }
  return names;
}

// Never overwrite a header the caller set, whatever its case (`Baggage` by hand stays as written). The names are
// lowercased once per call: rescanning them per injected header made a caller's 180 uberctx-* baggage members
// cost 180 × 180 string comparisons on every outgoing call.
const headersObjectSetter: CarrierSetter<HeadersCarrier<HeaderRecord>> = {
  set(carrier, key, value) {
    const lower = key.toLowerCase();
    if (carrier.taken.has(lower)) return;
    carrier.taken.add(lower);
    carrier.headers[key] = value;
  },
};

const rawHeadersSetter: CarrierSetter<HeadersCarrier<RawHeaders>> = {
  set(carrier, key, value) {
    const lower = key.toLowerCase();
    if (carrier.taken.has(lower)) return;
    carrier.taken.add(lower);
    carrier.headers.push(key, value);
  },
};

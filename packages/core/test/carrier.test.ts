import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { defaultGetter, defaultSetter, lowercaseHeadersGetter, w3cTraceContext } from '../src/index.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('defaultGetter', () => {
  it('reads Node IncomingHttpHeaders: lowercase keys, strings and string arrays', () => {
    const headers: IncomingHttpHeaders = {
      traceparent: TP,
      tracestate: ['a=1', 'b=2'],
      'content-length': '3',
    };
    expect(defaultGetter.get(headers, 'traceparent')).toBe(TP);
    expect(defaultGetter.get(headers, 'tracestate')).toEqual(['a=1', 'b=2']);
    expect(defaultGetter.get(headers, 'missing')).toBeUndefined();
    expect(defaultGetter.keys(headers)).toEqual(['traceparent', 'tracestate', 'content-length']);
  });

  it('reads fetch Headers case-insensitively, repeated values joined by ", "', () => {
    const headers = new Headers({ TraceParent: TP });
    headers.append('baggage', 'a=1');
    headers.append('baggage', 'b=2');
    expect(defaultGetter.get(headers, 'traceparent')).toBe(TP);
    expect(defaultGetter.get(headers, 'baggage')).toBe('a=1, b=2');
    expect(defaultGetter.get(headers, 'missing')).toBeUndefined();
    expect(defaultGetter.keys(headers).sort()).toEqual(['baggage', 'traceparent']);
  });

  it('reads plain objects whatever the case of their keys', () => {
    const headers = { TraceParent: TP, 'X-B3-TraceId': 'abc' };
    expect(defaultGetter.get(headers, 'traceparent')).toBe(TP);
    expect(defaultGetter.get(headers, 'x-b3-traceid')).toBe('abc');
  });

  it('reads a Map whatever the case of its keys, and keeps array values (gRPC Metadata returns arrays)', () => {
    const map = new Map<string, unknown>([
      ['Traceparent', TP],
      ['tracestate', ['a=1', 'b=2']],
    ]);
    expect(defaultGetter.get(map, 'traceparent')).toBe(TP);
    expect(defaultGetter.get(map, 'tracestate')).toEqual(['a=1', 'b=2']);
    expect(defaultGetter.get(map, 'missing')).toBeUndefined();
    // gRPC Metadata's shape: get(key) is every value of the key, as an array; no keys().
    const values = new Map([['traceparent', [TP]]]);
    const metadata = { get: (key: string) => values.get(key) ?? [], set() {} };
    expect(w3cTraceContext.extract(metadata).spanContext?.spanId).toBe('00f067aa0ba902b7');
  });

  it('turns numbers into strings and drops other value types', () => {
    expect(defaultGetter.get({ 'content-length': 42 }, 'content-length')).toBe('42');
    expect(defaultGetter.get({ a: { nested: true } }, 'a')).toBeUndefined();
    expect(defaultGetter.get({ a: ['x', 1, 'y'] }, 'a')).toEqual(['x', 'y']);
  });

  it('returns nothing for carriers that are not objects', () => {
    for (const carrier of [undefined, null, 'traceparent', 42]) {
      expect(defaultGetter.get(carrier, 'traceparent')).toBeUndefined();
      expect(defaultGetter.keys(carrier)).toEqual([]);
    }
  });
});

describe('defaultSetter', () => {
  it('sets on fetch Headers', () => {
    const headers = new Headers();
    defaultSetter.set(headers, 'traceparent', TP);
    expect(headers.get('traceparent')).toBe(TP);
  });

  it('assigns on plain objects', () => {
    const headers: Record<string, string> = {};
    defaultSetter.set(headers, 'traceparent', TP);
    expect(headers).toEqual({ traceparent: TP });
  });

  it('replaces the same name in another case on plain objects, so a request carries one value', () => {
    const headers: Record<string, string> = { Traceparent: 'old', Accept: 'application/json' };
    defaultSetter.set(headers, 'traceparent', TP);
    expect(headers).toEqual({ traceparent: TP, Accept: 'application/json' });
  });

  it('also drops other spellings when the lowercase name is already there', () => {
    const headers: Record<string, string> = { traceparent: 'old', TRACEPARENT: 'older', Accept: '*/*' };
    defaultSetter.set(headers, 'traceparent', TP);
    expect(headers).toEqual({ traceparent: TP, Accept: '*/*' });
  });

  it('writes even when another spelling cannot be removed', () => {
    const headers = Object.seal({ traceparent: 'old', Traceparent: 'other' });
    defaultSetter.set(headers, 'traceparent', TP);
    expect(headers).toEqual({ traceparent: TP, Traceparent: 'other' });
  });

  it('leaves other spellings of a mixed-case name alone, as toLowerCase would', () => {
    const headers: Record<string, string> = { 'uberctx-USERID': 'b', 'X-CUSTOM': 'c' };
    defaultSetter.set(headers, 'uberctx-userId', 'a');
    defaultSetter.set(headers, 'X-Custom', 'd');
    expect(headers).toEqual({
      'uberctx-USERID': 'b',
      'X-CUSTOM': 'c',
      'uberctx-userId': 'a',
      'X-Custom': 'd',
    });
  });

  it('folds only ASCII letters when matching names, as HTTP does', () => {
    // U+212A KELVIN SIGN lowercases to "k" in JavaScript, but is no spelling of an HTTP field name.
    const headers: Record<string, string> = { 'uberctx-\u212A': 'x' };
    defaultSetter.set(headers, 'uberctx-k', 'v');
    expect(headers).toEqual({ 'uberctx-\u212A': 'x', 'uberctx-k': 'v' });
  });

  it('calls setHeader on objects shaped like Node OutgoingMessage', () => {
    const written: [string, string][] = [];
    const outgoing = { setHeader: (k: string, v: string) => written.push([k, v]) };
    defaultSetter.set(outgoing, 'traceparent', TP);
    expect(written).toEqual([['traceparent', TP]]);
  });

  it('does not throw when the carrier refuses the header (headers already sent, immutable Headers)', () => {
    const sent = {
      setHeader() {
        throw Object.assign(new Error('Cannot set headers after they are sent'), {
          code: 'ERR_HTTP_HEADERS_SENT',
        });
      },
    };
    expect(() => defaultSetter.set(sent, 'traceparent', TP)).not.toThrow();
    const frozen = Object.freeze({}) as Record<string, string>;
    expect(() => defaultSetter.set(frozen, 'traceparent', TP)).not.toThrow();
  });

  it('ignores carriers that are not objects', () => {
    expect(() => defaultSetter.set(undefined, 'traceparent', TP)).not.toThrow();
    expect(() => defaultSetter.set(null, 'traceparent', TP)).not.toThrow();
  });
});

describe('propagators over the three carrier kinds', () => {
  const carriers: [string, () => unknown, (c: unknown) => string | null | undefined][] = [
    [
      'Node headers object',
      () => ({}) as IncomingHttpHeaders,
      (c) => (c as IncomingHttpHeaders).traceparent as string,
    ],
    ['fetch Headers', () => new Headers(), (c) => (c as Headers).get('traceparent')],
    ['plain object', () => ({}), (c) => (c as Record<string, string>).traceparent],
  ];

  it.each(carriers)('injects into and extracts from a %s', (_kind, make, read) => {
    const carrier = make();
    const spanContext = {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: 1,
    };
    w3cTraceContext.inject({ spanContext }, carrier);
    expect(read(carrier)).toBe(TP);
    expect(w3cTraceContext.extract(carrier).spanContext).toEqual({ ...spanContext, isRemote: true });
  });
});

describe('lowercaseHeadersGetter', () => {
  it('reads Node IncomingHttpHeaders by their lowercase names', () => {
    const headers: IncomingHttpHeaders = { traceparent: TP, tracestate: ['a=1', 'b=2'] };
    expect(lowercaseHeadersGetter.get(headers, 'traceparent')).toBe(TP);
    expect(lowercaseHeadersGetter.get(headers, 'tracestate')).toEqual(['a=1', 'b=2']);
    expect(lowercaseHeadersGetter.keys(headers)).toEqual(['traceparent', 'tracestate']);
  });

  it('treats a name spelled in another case as absent, as Node never produces one', () => {
    expect(lowercaseHeadersGetter.get({ TraceParent: TP }, 'traceparent')).toBeUndefined();
    expect(w3cTraceContext.extract({ TraceParent: TP }, lowercaseHeadersGetter)).toEqual({});
  });

  it('ignores values that are not header values', () => {
    expect(
      lowercaseHeadersGetter.get({ traceparent: { toString: () => TP } }, 'traceparent'),
    ).toBeUndefined();
    expect(lowercaseHeadersGetter.get(null, 'traceparent')).toBeUndefined();
    expect(lowercaseHeadersGetter.keys(null)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { Baggage, jaeger, TraceFlags } from '../src/index.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const extract = (headers: Record<string, string | string[]>) => jaeger.extract(headers);

describe('jaeger uber-trace-id (Jaeger client "Propagation Format": {trace-id}:{span-id}:{parent-span-id}:{flags})', () => {
  it('reads a 128-bit trace id, span id, parent 0 and flags 1 (sampled)', () => {
    expect(extract({ 'uber-trace-id': `${TRACE}:${SPAN}:0:1` }).spanContext).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });

  it('reads a value with optional whitespace around it', () => {
    expect(extract({ 'uber-trace-id': ` ${TRACE}:${SPAN}:0:1 ` }).spanContext?.spanId).toBe(SPAN);
  });

  it('reads the URL-encoded form (%3A for ":")', () => {
    expect(extract({ 'uber-trace-id': `${TRACE}%3A${SPAN}%3A0%3A1` }).spanContext?.spanId).toBe(SPAN);
  });

  it('left-pads ids shorter than 32/16 hex characters (leading zeros dropped by clients)', () => {
    const sc = extract({ 'uber-trace-id': 'deadbeef:beef:0:01' }).spanContext;
    expect(sc?.traceId).toBe('000000000000000000000000deadbeef');
    expect(sc?.spanId).toBe('000000000000beef');
  });

  it('lowercases ids written in uppercase', () => {
    expect(extract({ 'uber-trace-id': `${TRACE.toUpperCase()}:${SPAN}:0:1` }).spanContext?.traceId).toBe(
      TRACE,
    );
  });

  it.each([
    ['0', TraceFlags.NONE],
    ['1', TraceFlags.SAMPLED],
    ['2', TraceFlags.SAMPLED],
    ['3', TraceFlags.SAMPLED],
    ['00', TraceFlags.NONE],
    ['05', TraceFlags.SAMPLED],
    ['04', TraceFlags.NONE],
  ])('reads flags %s: bit 1 sampled, bit 2 debug (debug implies sampled)', (flags, expected) => {
    expect(extract({ 'uber-trace-id': `${TRACE}:${SPAN}:0:${flags}` }).spanContext?.traceFlags).toBe(
      expected,
    );
  });

  it.each([
    ['2', true],
    ['3', true],
    ['1', undefined],
    ['0', undefined],
  ])('marks flags %s as debug: %s', (flags, debug) => {
    expect(extract({ 'uber-trace-id': `${TRACE}:${SPAN}:0:${flags}` }).spanContext?.debug).toBe(debug);
  });

  it('writes a debug context with flags 03 (sampled and debug)', () => {
    const carrier: Record<string, string> = {};
    jaeger.inject(
      { spanContext: { traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, debug: true } },
      carrier,
    );
    expect(carrier['uber-trace-id']).toBe(`${TRACE}:${SPAN}:0:03`);
  });

  it.each([
    ['three fields', `${TRACE}:${SPAN}:1`],
    ['five fields', `${TRACE}:${SPAN}:0:1:0`],
    ['a 33-character trace id', `0${TRACE}:${SPAN}:0:1`],
    ['a 17-character span id', `${TRACE}:0${SPAN}:0:1`],
    ['an all-zero trace id', `0:${SPAN}:0:1`],
    ['an all-zero span id', `${TRACE}:0000:0:1`],
    ['an empty trace id', `:${SPAN}:0:1`],
    ['a non-hex span id', `${TRACE}:xyz:0:1`],
    ['a non-hex parent', `${TRACE}:${SPAN}:zz:1`],
    ['an empty parent', `${TRACE}:${SPAN}::1`],
    ['non-hex flags', `${TRACE}:${SPAN}:0:x`],
    ['three-digit flags', `${TRACE}:${SPAN}:0:001`],
    ['a malformed escape', `${TRACE}%3:${SPAN}:0:1`],
    ['empty', ''],
  ])('ignores uber-trace-id with %s', (_why, value) => {
    expect(extract({ 'uber-trace-id': value }).spanContext).toBeUndefined();
  });
});

describe('jaeger baggage (uberctx-{key})', () => {
  it('reads uberctx-* headers as baggage, URL-decoded', () => {
    const { baggage } = extract({ 'uberctx-user': 'J%C3%BCrgen%20K', 'uberctx-tenant': 'acme', other: 'x' });
    expect(baggage?.get('user')?.value).toBe('J\u00fcrgen K');
    expect(baggage?.get('tenant')?.value).toBe('acme');
    expect(baggage?.size).toBe(2);
  });

  it('reads "+" in uberctx-* values as a space, as the Go and Java Jaeger clients form-encode them (url.QueryEscape, URLEncoder)', () => {
    const { baggage } = extract({
      'uberctx-user': 'Jane+Doe',
      'uberctx-city': 'S%C3%A3o+Paulo',
      'uberctx-op': 'a%2Bb',
    });
    expect(baggage?.get('user')?.value).toBe('Jane Doe');
    expect(baggage?.get('city')?.value).toBe('S\u00e3o Paulo');
    expect(baggage?.get('op')?.value).toBe('a+b');
  });

  it('reads baggage without a trace id', () => {
    expect(extract({ 'uberctx-a': '1' })).toEqual({ baggage: expect.any(Baggage) });
  });

  it('reads prefix case-insensitively from plain objects', () => {
    expect(extract({ 'UberCtx-a': '1' }).baggage?.get('a')?.value).toBe('1');
  });

  it('keeps the first 180 of many uberctx-* headers, as W3C baggage keeps its first 180 members', () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 200; i++) headers[`uberctx-k${i}`] = `v${i}`;
    const baggage = extract(headers).baggage;
    expect(baggage?.size).toBe(180);
    expect(baggage?.get('k179')?.value).toBe('v179');
    expect(baggage?.get('k180')).toBeUndefined();
  });

  it('reads a uberctx-__proto__ header as the entry it names', () => {
    const headers = JSON.parse('{"uberctx-__proto__":"x","uberctx-a":"1"}') as Record<string, string>;
    const baggage = extract(headers).baggage;
    expect(baggage?.get('__proto__')?.value).toBe('x');
    expect(baggage?.get('a')?.value).toBe('1');
  });

  it('drops a baggage header with a malformed escape', () => {
    expect(extract({ 'uberctx-a': '%zz', 'uberctx-b': 'ok' }).baggage?.get('a')).toBeUndefined();
  });

  it('drops a baggage header whose raw value cannot be re-encoded (lone surrogate) instead of throwing later', () => {
    const { baggage } = extract({ 'uberctx-a': '\udc00x', 'uberctx-b': 'ok' });
    expect(baggage?.get('a')).toBeUndefined();
    expect(baggage?.serialize()).toBe('b=ok');
  });

  it('writes uber-trace-id with parent 0 and the sampled flag, and uberctx-* URL-encoded', () => {
    const carrier: Record<string, string> = {};
    jaeger.inject(
      {
        spanContext: { traceId: TRACE, spanId: SPAN, traceFlags: 1 },
        baggage: Baggage.from({ user: 'J\u00fcrgen K' }),
      },
      carrier,
    );
    expect(carrier).toEqual({ 'uber-trace-id': `${TRACE}:${SPAN}:0:01`, 'uberctx-user': 'J%C3%BCrgen%20K' });
  });

  it('writes one uberctx-* header per baggage key into a plain object, keys differing only in case included', () => {
    for (const entries of [
      { USERID: 'b', userId: 'a' },
      { userId: 'a', USERID: 'b' },
    ]) {
      const carrier: Record<string, string> = {};
      jaeger.inject(
        { spanContext: { traceId: TRACE, spanId: SPAN, traceFlags: 1 }, baggage: Baggage.from(entries) },
        carrier,
      );
      expect(carrier).toEqual({
        'uber-trace-id': `${TRACE}:${SPAN}:0:01`,
        'uberctx-USERID': 'b',
        'uberctx-userId': 'a',
      });
    }
  });

  it('writes nothing for an invalid context', () => {
    const carrier: Record<string, string> = {};
    jaeger.inject({ spanContext: { traceId: TRACE, spanId: 'nope', traceFlags: 1 } }, carrier);
    expect(carrier).toEqual({});
  });
});

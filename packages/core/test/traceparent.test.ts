import { describe, expect, it } from 'vitest';
import { TraceFlags, TraceState, w3cTraceContext } from '../src/index.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

function extract(headers: Record<string, string | string[]>) {
  return w3cTraceContext.extract(headers).spanContext;
}

describe('w3cTraceContext extract (W3C Trace Context §3.2 traceparent)', () => {
  it('reads the spec example of a sampled request (§3.2.3)', () => {
    expect(extract({ traceparent: VALID })).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });

  it('reads an unsampled request (§3.2.3) and keeps the Level 2 random flag', () => {
    expect(extract({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-00` })?.traceFlags).toBe(0);
    expect(extract({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-03` })?.traceFlags).toBe(3);
  });

  it('drops reserved flag bits (§3.2.2.5): they never reach the span, its logs or what it exports', () => {
    expect(extract({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-09` })?.traceFlags).toBe(TraceFlags.SAMPLED);
    expect(extract({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-04` })?.traceFlags).toBe(TraceFlags.NONE);
    expect(extract({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-ff` })?.traceFlags).toBe(
      TraceFlags.SAMPLED | TraceFlags.RANDOM,
    );
  });

  it('returns nothing when the header is absent', () => {
    expect(w3cTraceContext.extract({})).toEqual({});
  });

  it.each([
    ['version ff is invalid (§3.2.2.1)', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['uppercase hex in trace-id (§3.2.2 HEXDIGLC)', `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ['uppercase hex in parent-id (§3.2.2.4)', `00-${TRACE_ID}-00F067AA0BA902B7-01`],
    ['uppercase hex in version', `0A-${TRACE_ID}-${SPAN_ID}-01`],
    ['uppercase hex in flags', `00-${TRACE_ID}-${SPAN_ID}-0A`],
    ['all-zero trace-id (§3.2.2.3)', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['all-zero parent-id (§3.2.2.4)', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['version 00 longer than 55 characters (§3.2.2.2)', `${VALID}-extra`],
    ['version 00 with a trailing dash', `${VALID}-`],
    ['shorter than 55 characters (§3.2.4)', VALID.slice(0, 54)],
    ['trace-id of 31 characters', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01x`],
    ['parent-id of 15 characters', `00-${TRACE_ID}-${SPAN_ID.slice(1)}-01x`],
    ['non-hex in trace-id', `00-${TRACE_ID.slice(0, 31)}g-${SPAN_ID}-01`],
    ['non-hex flags', `00-${TRACE_ID}-${SPAN_ID}-0g`],
    ['a version that is not 2 hex characters followed by a dash (§3.2.4)', `0-${TRACE_ID}-${SPAN_ID}-01x`],
    ['wrong delimiter', `00_${TRACE_ID}_${SPAN_ID}_01`],
    ['an empty value', ''],
    [
      'a future version whose flags are followed by something other than a dash (§3.2.4)',
      `01-${TRACE_ID}-${SPAN_ID}-01.x`,
    ],
    ['a future version shorter than 55 characters (§3.2.4)', `01-${TRACE_ID}-${SPAN_ID}-0`],
  ])('ignores traceparent: %s', (_why, value) => {
    expect(extract({ traceparent: value })).toBeUndefined();
  });

  it.each([
    ['a leading space', ` ${VALID}`],
    ['a leading tab', `\t${VALID}`],
    ['trailing spaces and tabs', `${VALID} \t `],
  ])('accepts traceparent with %s around it (optional whitespace; W3C test suite)', (_why, value) => {
    expect(extract({ traceparent: value })?.spanId).toBe(SPAN_ID);
  });

  it('ignores whitespace inside traceparent', () => {
    expect(extract({ traceparent: VALID.replace('-', ' -') })).toBeUndefined();
  });

  it('ignores duplicate traceparent headers (two values cannot describe one parent)', () => {
    expect(extract({ traceparent: [VALID, `00-${TRACE_ID}-b7ad6b7169203331-01`] })).toBeUndefined();
    expect(extract({ traceparent: [VALID, VALID] })).toBeUndefined();
  });

  it('ignores duplicate traceparent headers that fetch Headers joined with ", "', () => {
    const headers = new Headers();
    headers.append('traceparent', VALID);
    headers.append('traceparent', VALID);
    expect(w3cTraceContext.extract(headers).spanContext).toBeUndefined();
  });

  it('accepts a one-element array as a single header', () => {
    expect(extract({ traceparent: [VALID] })?.spanId).toBe(SPAN_ID);
  });

  it('parses a higher version of exactly 55 characters (§3.2.4)', () => {
    expect(extract({ traceparent: `cc-${TRACE_ID}-${SPAN_ID}-01` })).toMatchObject({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
    });
  });

  it('parses a higher version with appended fields and ignores them (§3.2.4)', () => {
    const sc = extract({ traceparent: `01-${TRACE_ID}-${SPAN_ID}-01-what-the-future-will-be-like` });
    expect(sc).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
  });

  it('keeps only the sampled bit of a higher version (§3.2.4: parse the sampled bit)', () => {
    expect(extract({ traceparent: `01-${TRACE_ID}-${SPAN_ID}-ff` })?.traceFlags).toBe(TraceFlags.SAMPLED);
  });

  it('reads the header name in any case (§3.2.1)', () => {
    expect(extract({ TraceParent: VALID })?.traceId).toBe(TRACE_ID);
  });
});

describe('w3cTraceContext tracestate (W3C Trace Context §3.3)', () => {
  it('attaches a valid tracestate', () => {
    const sc = extract({ traceparent: VALID, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' });
    expect(sc?.traceState?.serialize()).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  });

  it('combines multiple tracestate headers in order (§3.3.1.3, RFC 7230 §3.2.2)', () => {
    const sc = extract({ traceparent: VALID, tracestate: ['rojo=00f067aa0ba902b7', 'congo=t61rcWkgMzE'] });
    expect(sc?.traceState?.get('congo')).toBe('t61rcWkgMzE');
    expect(sc?.traceState?.serialize()).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
  });

  it('drops an invalid tracestate but keeps the traceparent (§3.3: failure to parse tracestate MUST NOT affect traceparent)', () => {
    const sc = extract({ traceparent: VALID, tracestate: 'Invalid-Key=1' });
    expect(sc?.traceId).toBe(TRACE_ID);
    expect(sc?.traceState).toBeUndefined();
  });

  it('does not read tracestate when traceparent is invalid (§3.3)', () => {
    expect(w3cTraceContext.extract({ traceparent: 'garbage', tracestate: 'a=b' })).toEqual({});
  });
});

describe('w3cTraceContext inject', () => {
  it('writes version 00 with the ids and flags', () => {
    const carrier: Record<string, string> = {};
    w3cTraceContext.inject({ spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 } }, carrier);
    expect(carrier).toEqual({ traceparent: VALID });
  });

  it('downgrades a context read from a higher version to version 00 (§3.2.4)', () => {
    const ctx = w3cTraceContext.extract({ traceparent: `01-${TRACE_ID}-${SPAN_ID}-01-extra` });
    const carrier: Record<string, string> = {};
    w3cTraceContext.inject(ctx, carrier);
    expect(carrier.traceparent).toBe(VALID);
  });

  it('writes unknown flag bits as zero (§3.2.2.5.2 Other Flags)', () => {
    const carrier: Record<string, string> = {};
    w3cTraceContext.inject(
      { spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0xff } },
      carrier,
    );
    expect(carrier.traceparent).toBe(`00-${TRACE_ID}-${SPAN_ID}-03`);
  });

  it('writes tracestate when the context has one', () => {
    const carrier: Record<string, string> = {};
    const traceState = TraceState.parse('rojo=1')!.set('congo', '2');
    w3cTraceContext.inject(
      { spanContext: { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, traceState } },
      carrier,
    );
    expect(carrier.tracestate).toBe('congo=2,rojo=1');
  });

  it.each([
    ['an uppercase trace id', { traceId: TRACE_ID.toUpperCase(), spanId: SPAN_ID, traceFlags: 1 }],
    ['an all-zero span id', { traceId: TRACE_ID, spanId: '0'.repeat(16), traceFlags: 1 }],
    ['a short trace id', { traceId: TRACE_ID.slice(2), spanId: SPAN_ID, traceFlags: 1 }],
    ['an id with CR LF', { traceId: `${TRACE_ID.slice(0, 30)}\r\n`, spanId: SPAN_ID, traceFlags: 1 }],
    ['flags above one byte', { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 256 }],
    ['fractional flags', { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0.5 }],
  ])('writes nothing for %s', (_why, spanContext) => {
    const carrier: Record<string, string> = {};
    w3cTraceContext.inject({ spanContext }, carrier);
    expect(carrier).toEqual({});
  });

  it('writes nothing without a span context', () => {
    const carrier: Record<string, string> = {};
    w3cTraceContext.inject({}, carrier);
    expect(carrier).toEqual({});
  });

  it('lists its fields in lowercase', () => {
    expect(w3cTraceContext.fields).toEqual(['traceparent', 'tracestate']);
  });
});

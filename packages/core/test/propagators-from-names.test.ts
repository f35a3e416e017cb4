import { describe, expect, it } from 'vitest';
import { Baggage, defaultPropagator, propagatorsFromNames } from '../src/index.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';
const context = { spanContext: { traceId: T, spanId: S, traceFlags: 1 }, baggage: Baggage.from({ k: 'v' }) };

function injected(names: string): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagatorsFromNames(names).inject(context, carrier);
  return carrier;
}

describe('propagatorsFromNames (OTEL_PROPAGATORS values)', () => {
  it.each([
    ['tracecontext', ['traceparent']],
    ['baggage', ['baggage']],
    ['b3', ['b3']],
    ['b3multi', ['x-b3-sampled', 'x-b3-spanid', 'x-b3-traceid']],
    ['jaeger', ['uber-trace-id', 'uberctx-k']],
    ['tracecontext,baggage', ['baggage', 'traceparent']],
    [' TraceContext , B3 ', ['b3', 'traceparent']],
    ['none', []],
  ])('%s injects %j', (names, headers) => {
    expect(Object.keys(injected(names)).sort()).toEqual(headers);
  });

  it('extracts with every named propagator, first valid wins', () => {
    const p = propagatorsFromNames('b3,tracecontext');
    const r = p.extract({ traceparent: `00-${T}-${S}-01`, b3: `${T}-e457b5a2e4d86bd1-1` });
    expect(r.spanContext?.spanId).toBe('e457b5a2e4d86bd1');
  });

  it('lists each propagator once when named twice', () => {
    expect(propagatorsFromNames('tracecontext,tracecontext').fields).toEqual(['traceparent', 'tracestate']);
  });

  it('treats an empty value as unset and returns the default propagator', () => {
    expect(propagatorsFromNames('')).toBe(defaultPropagator);
    expect(propagatorsFromNames('  ')).toBe(defaultPropagator);
  });

  it('throws a RangeError naming OTEL_PROPAGATORS, the unknown value and the accepted ones', () => {
    expect(() => propagatorsFromNames('tracecontext,xray')).toThrow(RangeError);
    expect(() => propagatorsFromNames('tracecontext,xray')).toThrow(
      'OTEL_PROPAGATORS: unknown propagator "xray"; accepted values: tracecontext, baggage, b3, b3multi, jaeger, none',
    );
  });

  it('refuses none listed with other names, or, reading the environment (skipUnknown), lets none win', () => {
    expect(() => propagatorsFromNames('none,tracecontext', 'propagators')).toThrow(
      'propagators: "none" cannot be combined with other propagators; got "none,tracecontext"',
    );
    const fromEnv = propagatorsFromNames('none, tracecontext', 'OTEL_PROPAGATORS', () => undefined);
    const carrier: Record<string, string> = {};
    fromEnv.inject(context, carrier);
    expect(carrier).toEqual({});
    expect(fromEnv.extract({ traceparent: `00-${T}-${S}-01` }).spanContext).toBeUndefined();
  });

  it('does not accept names inherited from Object.prototype', () => {
    expect(() => propagatorsFromNames('constructor')).toThrow(RangeError);
  });

  it('throws a TypeError for a value that is not a string', () => {
    expect(() => propagatorsFromNames(42 as unknown as string)).toThrow(TypeError);
  });
});

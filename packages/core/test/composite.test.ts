import { describe, expect, it } from 'vitest';
import {
  Baggage,
  b3,
  composite,
  defaultPropagator,
  jaeger,
  type Propagator,
  w3cBaggage,
  w3cTraceContext,
} from '../src/index.js';

const T1 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T2 = '80f198ee56343ba864fe8b2a57d3eff7';
const S1 = '00f067aa0ba902b7';
const S2 = 'e457b5a2e4d86bd1';

const all = composite([w3cTraceContext, w3cBaggage, b3(), jaeger]);

const throwing: Propagator = {
  name: 'broken',
  fields: ['x-broken'],
  inject() {
    throw new Error('inject');
  },
  extract() {
    throw new Error('extract');
  },
};

describe('composite extract', () => {
  it('takes the first valid span context in propagator order', () => {
    const r = all.extract({ traceparent: `00-${T1}-${S1}-01`, b3: `${T1}-${S2}-1` });
    expect(r.spanContext?.spanId).toBe(S1);
    expect(r.conflicting).toBeUndefined();
  });

  it('skips an invalid context and takes the next valid one', () => {
    const r = all.extract({ traceparent: 'garbage', b3: `${T2}-${S2}-1` });
    expect(r.spanContext?.traceId).toBe(T2);
  });

  it('returns a valid context of another format with a different trace id in conflicting', () => {
    const r = all.extract({
      traceparent: `00-${T1}-${S1}-01`,
      b3: `${T2}-${S2}-1`,
      'uber-trace-id': `${T2}:${S1}:0:1`,
    });
    expect(r.spanContext?.traceId).toBe(T1);
    expect(r.conflicting).toEqual([{ traceId: T2, spanId: S2, traceFlags: 1, isRemote: true }]);
  });

  it('merges baggage, earlier propagators winning on equal keys', () => {
    const r = all.extract({ baggage: 'a=w3c,b=w3c', 'uberctx-b': 'jaeger', 'uberctx-c': 'jaeger' });
    expect(Object.fromEntries([...(r.baggage?.entries() ?? [])].map(([k, v]) => [k, v.value]))).toEqual({
      a: 'w3c',
      b: 'w3c',
      c: 'jaeger',
    });
  });

  it('returns a B3 decision sent without ids when no format carries a valid context', () => {
    expect(all.extract({ b3: '0', baggage: 'k=v' })).toMatchObject({ sampled: false });
    expect(all.extract({ b3: '0' })).toEqual({ sampled: false });
    expect(all.extract({ traceparent: 'garbage', 'x-b3-sampled': '1' })).toEqual({ sampled: true });
    expect(all.extract({ 'x-b3-flags': '1' })).toEqual({ sampled: true, debug: true });
  });

  it('lets a valid context of any format win over a B3 decision sent without ids, before or after it', () => {
    const want = { spanContext: { traceId: T1, spanId: S1, traceFlags: 1, isRemote: true } };
    expect(all.extract({ traceparent: `00-${T1}-${S1}-01`, b3: '0' })).toEqual(want);
    expect(composite([b3(), w3cTraceContext]).extract({ b3: '0', traceparent: `00-${T1}-${S1}-01` })).toEqual(
      want,
    );
    expect(all.extract({ 'x-b3-sampled': '0', 'uber-trace-id': `${T1}:${S1}:0:1` })).toEqual(want);
  });

  it('still reports conflicting contexts next to a B3 decision sent without ids', () => {
    const r = all.extract({ traceparent: `00-${T1}-${S1}-01`, b3: '0', 'uber-trace-id': `${T2}:${S2}:0:1` });
    expect(r.spanContext?.traceId).toBe(T1);
    expect(r.conflicting?.map((c) => c.traceId)).toEqual([T2]);
    expect(r.sampled).toBeUndefined();
  });

  it('takes the first decision sent without ids when several propagators return one', () => {
    const deny: Propagator = { ...throwing, extract: () => ({ sampled: false }) };
    const debug: Propagator = { ...throwing, extract: () => ({ sampled: true, debug: true }) };
    expect(composite([deny, debug]).extract({})).toEqual({ sampled: false });
    expect(composite([debug, deny]).extract({})).toEqual({ sampled: true, debug: true });
  });

  it('returns nothing when no format is present', () => {
    expect(all.extract({ host: 'example.test' })).toEqual({});
  });

  it('skips a propagator that throws', () => {
    const r = composite([throwing, w3cTraceContext]).extract({ traceparent: `00-${T1}-${S1}-01` });
    expect(r.spanContext?.traceId).toBe(T1);
  });
});

describe('composite inject', () => {
  it('writes with every propagator', () => {
    const carrier: Record<string, string> = {};
    all.inject(
      { spanContext: { traceId: T1, spanId: S1, traceFlags: 1 }, baggage: Baggage.from({ k: 'v' }) },
      carrier,
    );
    expect(carrier).toEqual({
      traceparent: `00-${T1}-${S1}-01`,
      baggage: 'k=v',
      b3: `${T1}-${S1}-1`,
      'uber-trace-id': `${T1}:${S1}:0:01`,
      'uberctx-k': 'v',
    });
  });

  it('writes only with injectWith when given', () => {
    const carrier: Record<string, string> = {};
    composite([w3cTraceContext, b3()], { injectWith: [b3()] }).inject(
      { spanContext: { traceId: T1, spanId: S1, traceFlags: 0 } },
      carrier,
    );
    expect(carrier).toEqual({ b3: `${T1}-${S1}-0` });
  });

  it('keeps writing when one propagator throws', () => {
    const carrier: Record<string, string> = {};
    composite([throwing, w3cTraceContext]).inject(
      { spanContext: { traceId: T1, spanId: S1, traceFlags: 1 } },
      carrier,
    );
    expect(carrier.traceparent).toBeDefined();
  });

  it('lists the fields of every propagator once', () => {
    expect(composite([w3cTraceContext, w3cTraceContext, w3cBaggage]).fields).toEqual([
      'traceparent',
      'tracestate',
      'baggage',
    ]);
  });

  it('rejects a list that is not propagators with a TypeError', () => {
    expect(() => composite('tracecontext' as unknown as Propagator[])).toThrow(TypeError);
    expect(() => composite([{} as Propagator])).toThrow(/propagators/);
    expect(() => composite([], { injectWith: [null as unknown as Propagator] })).toThrow(/injectWith/);
  });
});

describe('defaultPropagator', () => {
  it('extracts W3C, B3 single, B3 multi and Jaeger', () => {
    expect(defaultPropagator.extract({ traceparent: `00-${T1}-${S1}-01` }).spanContext?.traceId).toBe(T1);
    expect(defaultPropagator.extract({ b3: `${T1}-${S1}-1` }).spanContext?.traceId).toBe(T1);
    expect(defaultPropagator.extract({ 'x-b3-traceid': T1, 'x-b3-spanid': S1 }).spanContext?.traceId).toBe(
      T1,
    );
    expect(defaultPropagator.extract({ 'uber-trace-id': `${T1}:${S1}:0:1` }).spanContext?.traceId).toBe(T1);
  });

  it('injects only traceparent/tracestate and baggage (OpenTelemetry default "tracecontext,baggage")', () => {
    const carrier: Record<string, string> = {};
    defaultPropagator.inject(
      { spanContext: { traceId: T1, spanId: S1, traceFlags: 1 }, baggage: Baggage.from({ k: 'v' }) },
      carrier,
    );
    expect(carrier).toEqual({ traceparent: `00-${T1}-${S1}-01`, baggage: 'k=v' });
  });
});

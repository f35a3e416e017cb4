import { describe, expect, it } from 'vitest';
import { b3, lowercaseHeadersGetter, TraceFlags } from '../src/index.js';

const T128 = '80f198ee56343ba864fe8b2a57d3eff7';
const T64 = '64fe8b2a57d3eff7';
const SPAN = 'e457b5a2e4d86bd1';
const PARENT = '05e3ac9a4f6e3b90';

const single = b3();
const multi = b3({ inject: 'multi' });
const extract = (headers: Record<string, string | string[]>) => single.extract(headers).spanContext;

describe('b3 single header (openzipkin/b3-propagation "Single Header")', () => {
  it('reads {TraceId}-{SpanId}-{SamplingState}-{ParentSpanId}', () => {
    expect(extract({ b3: `${T128}-${SPAN}-1-${PARENT}` })).toEqual({
      traceId: T128,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });

  it('reads values with optional whitespace around them (carriers other than Node may keep it)', () => {
    expect(extract({ b3: ` ${T128}-${SPAN}-1\t` })?.spanId).toBe(SPAN);
    const multiHeaders = { 'x-b3-traceid': ` ${T128} `, 'x-b3-spanid': `${SPAN} `, 'x-b3-sampled': ' 1' };
    expect(extract(multiHeaders)).toEqual({
      traceId: T128,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });

  it('reads {TraceId}-{SpanId} as the sampling decision deferred to the receiver ("absent means defer")', () => {
    expect(extract({ b3: `${T128}-${SPAN}` })).toEqual({
      traceId: T128,
      spanId: SPAN,
      traceFlags: TraceFlags.NONE,
      isRemote: true,
      samplingDeferred: true,
    });
    for (const state of ['0', '1', 'd'])
      expect(extract({ b3: `${T128}-${SPAN}-${state}` })?.samplingDeferred).toBe(undefined);
  });

  it('reads {TraceId}-{SpanId}-{SamplingState}', () => {
    expect(extract({ b3: `${T128}-${SPAN}-0` })?.traceFlags).toBe(TraceFlags.NONE);
    expect(extract({ b3: `${T128}-${SPAN}-1` })?.traceFlags).toBe(TraceFlags.SAMPLED);
  });

  it('treats the debug sampling state "d" as sampled ("Debug Flag": debug implies accept)', () => {
    expect(extract({ b3: `${T128}-${SPAN}-d` })?.traceFlags).toBe(TraceFlags.SAMPLED);
  });

  it('marks a context from the debug sampling state "d" as debug, and only that one', () => {
    expect(extract({ b3: `${T128}-${SPAN}-d` })?.debug).toBe(true);
    expect(extract({ b3: `${T128}-${SPAN}-d-${PARENT}` })?.debug).toBe(true);
    expect(extract({ b3: `${T128}-${SPAN}-1` })?.debug).toBeUndefined();
  });

  it('left-pads a 64-bit trace id to 128 bits ("TraceId": 64 or 128-bit)', () => {
    expect(extract({ b3: `${T64}-${SPAN}-1` })?.traceId).toBe(`0000000000000000${T64}`);
  });

  it.each([
    ['an uppercase trace id', `${T128.toUpperCase()}-${SPAN}-1`],
    ['a 24-character trace id', `${T128.slice(8)}-${SPAN}-1`],
    ['an all-zero trace id', `${'0'.repeat(32)}-${SPAN}-1`],
    ['an all-zero 64-bit trace id', `${'0'.repeat(16)}-${SPAN}-1`],
    ['an all-zero span id', `${T128}-${'0'.repeat(16)}-1`],
    ['a short span id', `${T128}-${SPAN.slice(1)}-1`],
    ['an unknown sampling state', `${T128}-${SPAN}-2`],
    ['a sampling state of "true"', `${T128}-${SPAN}-true`],
    ['an invalid parent span id', `${T128}-${SPAN}-1-xyz`],
    ['an all-zero parent span id', `${T128}-${SPAN}-1-${'0'.repeat(16)}`],
    ['trailing garbage', `${T128}-${SPAN}-1-${PARENT}-x`],
    ['a trailing dash', `${T128}-${SPAN}-`],
    ['no dash', T128],
    ['empty', ''],
  ])('ignores a b3 header with %s', (_why, value) => {
    expect(extract({ b3: value })).toBeUndefined();
  });

  it('ignores two b3 headers', () => {
    expect(extract({ b3: [`${T128}-${SPAN}-1`, `${T128}-${SPAN}-0`] })).toBeUndefined();
  });
});

describe('b3 multiple headers (openzipkin/b3-propagation "Multiple Headers")', () => {
  it('reads X-B3-TraceId, X-B3-SpanId, X-B3-ParentSpanId and X-B3-Sampled', () => {
    const sc = extract({
      'x-b3-traceid': T128,
      'x-b3-spanid': SPAN,
      'x-b3-parentspanid': PARENT,
      'x-b3-sampled': '1',
    });
    expect(sc).toEqual({ traceId: T128, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  });

  it('reads them from Node request headers through lowercaseHeadersGetter, debug flag included', () => {
    const headers = { host: 'x', 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' };
    const sc = b3().extract(headers, lowercaseHeadersGetter).spanContext;
    expect(sc).toEqual({
      traceId: T128,
      spanId: SPAN,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      debug: true,
    });
    expect(b3().extract({ b3: `${T128}-${SPAN}-0` }, lowercaseHeadersGetter).spanContext?.spanId).toBe(SPAN);
  });

  it('reads header names in any case', () => {
    const sc = extract({ 'X-B3-TraceId': T128, 'X-B3-SpanId': SPAN, 'X-B3-Sampled': '1' });
    expect(sc?.traceId).toBe(T128);
  });

  it('left-pads a 64-bit X-B3-TraceId', () => {
    expect(extract({ 'x-b3-traceid': T64, 'x-b3-spanid': SPAN })?.traceId).toBe(`0000000000000000${T64}`);
  });

  it.each([
    ['1', TraceFlags.SAMPLED],
    ['0', TraceFlags.NONE],
    ['true', TraceFlags.SAMPLED],
    ['false', TraceFlags.NONE],
    ['True', TraceFlags.SAMPLED],
    ['FALSE', TraceFlags.NONE],
  ])(
    'reads X-B3-Sampled: %s (incl. the legacy "true"/"false" of "Sampling State", in any case)',
    (sampled, flags) => {
      expect(
        extract({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': sampled })?.traceFlags,
      ).toBe(flags);
    },
  );

  it('treats X-B3-Flags: 1 (debug) as sampled, whatever X-B3-Sampled says ("Debug Flag")', () => {
    const sc = extract({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-flags': '1', 'x-b3-sampled': '0' });
    expect(sc?.traceFlags).toBe(TraceFlags.SAMPLED);
    expect(sc?.debug).toBe(true);
    expect(extract({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-flags': '0' })?.debug).toBeUndefined();
  });

  it.each(['yes', 'truee', '2', ''])('ignores ids sent with an unreadable X-B3-Sampled: %j', (sampled) => {
    expect(extract({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': sampled })).toBeUndefined();
  });

  it('defers the decision to the receiver without X-B3-Sampled, but not with it or with X-B3-Flags: 1', () => {
    const ids = { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN };
    expect(extract(ids)).toEqual({
      traceId: T128,
      spanId: SPAN,
      traceFlags: TraceFlags.NONE,
      isRemote: true,
      samplingDeferred: true,
    });
    expect(extract({ ...ids, 'x-b3-flags': '0' })?.samplingDeferred).toBe(true);
    expect(extract({ ...ids, 'x-b3-sampled': '0' })?.samplingDeferred).toBe(undefined);
    expect(extract({ ...ids, 'x-b3-flags': '1' })?.samplingDeferred).toBe(undefined);
  });

  it.each([
    ['no span id', { 'x-b3-traceid': T128 }],
    ['no trace id', { 'x-b3-spanid': SPAN }],
    ['an invalid trace id', { 'x-b3-traceid': 'xyz', 'x-b3-spanid': SPAN }],
    ['an invalid span id', { 'x-b3-traceid': T128, 'x-b3-spanid': 'E457B5A2E4D86BD1' }],
    ['an invalid parent span id', { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-parentspanid': '1' }],
    ['an unknown X-B3-Sampled', { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': 'yes' }],
  ])('ignores multiple headers with %s', (_why, headers) => {
    expect(extract(headers)).toBeUndefined();
  });

  it('takes the first value of a repeated X-B3-* header ("Multiple Headers": the first value wins)', () => {
    const other = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const want = { traceId: T128, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true };
    // Node's req.headers joins a repeated header with ", "; fetch Headers does the same; arrays come from hand-built carriers.
    const joined = { 'x-b3-traceid': `${T128}, ${other}`, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1, 0' };
    expect(b3().extract(joined, lowercaseHeadersGetter).spanContext).toEqual(want);
    expect(extract(joined)).toEqual(want);
    expect(
      extract({ 'x-b3-traceid': [T128, other], 'x-b3-spanid': [SPAN], 'x-b3-sampled': ['1', '0'] }),
    ).toEqual(want);
    const headers = new Headers({ 'x-b3-spanid': SPAN });
    headers.append('X-B3-TraceId', T128);
    headers.append('X-B3-TraceId', other);
    headers.append('X-B3-Sampled', '1');
    headers.append('X-B3-Sampled', '0');
    expect(single.extract(headers).spanContext).toEqual(want);
  });

  it('lets a valid single header win over multiple headers', () => {
    const other = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
    const sc = extract({ b3: `${T128}-${SPAN}-1`, 'x-b3-traceid': other, 'x-b3-spanid': SPAN });
    expect(sc?.traceId).toBe(T128);
  });

  it('falls back to multiple headers when the single header is invalid', () => {
    expect(extract({ b3: 'garbage', 'x-b3-traceid': T128, 'x-b3-spanid': SPAN })?.traceId).toBe(T128);
  });

  it('works with a getter that cannot list keys', () => {
    const headers: Record<string, string> = {
      'x-b3-traceid': T128,
      'x-b3-spanid': SPAN,
      'x-b3-sampled': '1',
    };
    const getter = { get: (c: Record<string, string>, k: string) => c[k], keys: () => [] };
    expect(single.extract(headers, getter).spanContext?.traceFlags).toBe(TraceFlags.SAMPLED);
  });
});

describe('b3 sampling state without ids (openzipkin/b3-propagation "Sampling State")', () => {
  // Each carrier the way it reaches extract: Node's req.headers (lowercase getter), a plain object with names in
  // any case (walked), and fetch Headers.
  const forms = [
    ['Node request headers', (h: Record<string, string>) => single.extract(h, lowercaseHeadersGetter)],
    ['a plain object', (h: Record<string, string>) => single.extract(h)],
    ['fetch Headers', (h: Record<string, string>) => single.extract(new Headers(h))],
  ] as const;

  describe.each(forms)('from %s', (_carrier, read) => {
    it.each([
      ['b3: 0 as a deny', { b3: '0' }, { sampled: false }],
      ['b3: 1 as an accept', { b3: '1' }, { sampled: true }],
      ['b3: d as debug, which implies accept', { b3: 'd' }, { sampled: true, debug: true }],
      ['X-B3-Sampled: 0 as a deny', { 'x-b3-sampled': '0' }, { sampled: false }],
      ['X-B3-Sampled: false as a deny', { 'x-b3-sampled': 'false' }, { sampled: false }],
      ['X-B3-Sampled: False as a deny', { 'x-b3-sampled': 'False' }, { sampled: false }],
      ['X-B3-Sampled: True as an accept', { 'x-b3-sampled': 'True' }, { sampled: true }],
      ['X-B3-Sampled: 1 as an accept', { 'x-b3-sampled': '1' }, { sampled: true }],
      ['X-B3-Flags: 1 as debug', { 'x-b3-flags': '1' }, { sampled: true, debug: true }],
      [
        'X-B3-Flags: 1 as debug over X-B3-Sampled: 0',
        { 'x-b3-flags': '1', 'x-b3-sampled': '0' },
        { sampled: true, debug: true },
      ],
      [
        'b3: 0 before X-B3-Sampled: 1 ("the single-header variant takes precedence")',
        { b3: '0', 'x-b3-sampled': '1' },
        { sampled: false },
      ],
      ['X-B3-Sampled: 0 next to an invalid b3', { b3: 'garbage', 'x-b3-sampled': '0' }, { sampled: false }],
    ])('reads %s, with no span context', (_what, headers, want) => {
      expect(read({ host: 'x', ...headers })).toEqual(want);
    });

    it.each([
      ['b3: 2', { b3: '2' }],
      ['b3: 00', { b3: '00' }],
      ['X-B3-Sampled: yes', { 'x-b3-sampled': 'yes' }],
      ['X-B3-Flags: 0', { 'x-b3-flags': '0' }],
      [
        'X-B3-Sampled: 0 with an invalid X-B3-TraceId',
        { 'x-b3-traceid': 'xyz', 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' },
      ],
      ['X-B3-Sampled: 0 with a trace id and no span id', { 'x-b3-traceid': T128, 'x-b3-sampled': '0' }],
    ])('reads nothing from %s', (_what, headers) => {
      expect(read({ host: 'x', ...headers })).toEqual({});
    });

    it('lets valid ids win over a decision sent without them, in either form', () => {
      expect(read({ b3: '0', 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' })).toEqual({
        spanContext: { traceId: T128, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true },
      });
      expect(read({ b3: `${T128}-${SPAN}-1`, 'x-b3-sampled': '0' })).toEqual({
        spanContext: { traceId: T128, spanId: SPAN, traceFlags: TraceFlags.SAMPLED, isRemote: true },
      });
    });

    it('keeps b3: 0 when the multiple headers carry invalid ids', () => {
      expect(read({ b3: '0', 'x-b3-traceid': 'xyz', 'x-b3-spanid': SPAN })).toEqual({ sampled: false });
    });
  });

  it('reads them through a getter that cannot list keys', () => {
    const getter = { get: (c: Record<string, string>, k: string) => c[k], keys: () => [] };
    expect(single.extract({ 'x-b3-sampled': '0' }, getter)).toEqual({ sampled: false });
    expect(single.extract({ b3: 'd' }, getter)).toEqual({ sampled: true, debug: true });
  });

  it('injects nothing for a decision without ids (inject writes span contexts only)', () => {
    const carrier: Record<string, string> = {};
    single.inject(single.extract({ b3: '0' }), carrier);
    multi.inject(multi.extract({ 'x-b3-sampled': '0' }), carrier);
    expect(carrier).toEqual({});
  });
});

describe('b3 inject', () => {
  const spanContext = { traceId: T128, spanId: SPAN, traceFlags: TraceFlags.SAMPLED };

  it('writes the single header by default', () => {
    const carrier: Record<string, string> = {};
    single.inject({ spanContext }, carrier);
    expect(carrier).toEqual({ b3: `${T128}-${SPAN}-1` });
  });

  it('writes the multiple headers with inject: "multi"', () => {
    const carrier: Record<string, string> = {};
    multi.inject({ spanContext: { ...spanContext, traceFlags: 0 } }, carrier);
    expect(carrier).toEqual({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-sampled': '0' });
  });

  it('writes a context whose decision is still deferred without a sampling state, in either form', () => {
    const deferred = { ...spanContext, traceFlags: TraceFlags.NONE, samplingDeferred: true };
    const one: Record<string, string> = {};
    single.inject({ spanContext: deferred }, one);
    expect(one).toEqual({ b3: `${T128}-${SPAN}` });
    const many: Record<string, string> = {};
    multi.inject({ spanContext: deferred }, many);
    expect(many).toEqual({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN });
  });

  it('writes a debug context as sampling state "d", and as X-B3-Flags: 1 without X-B3-Sampled ("Debug Flag")', () => {
    const debug = { ...spanContext, debug: true };
    const one: Record<string, string> = {};
    single.inject({ spanContext: debug }, one);
    expect(one).toEqual({ b3: `${T128}-${SPAN}-d` });
    const many: Record<string, string> = {};
    multi.inject({ spanContext: debug }, many);
    expect(many).toEqual({ 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' });
  });

  it('passes the debug flag on from extract to inject, in either form', () => {
    for (const [from, to] of [
      [single, multi],
      [multi, single],
    ] as const) {
      const carrier: Record<string, string> = {};
      to.inject(
        from.extract(
          from === single
            ? { b3: `${T128}-${SPAN}-d` }
            : { 'x-b3-traceid': T128, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' },
        ),
        carrier,
      );
      expect(to.extract(carrier).spanContext?.debug).toBe(true);
    }
  });

  it('writes nothing for an invalid context', () => {
    const carrier: Record<string, string> = {};
    single.inject({ spanContext: { traceId: 'x', spanId: SPAN, traceFlags: 1 } }, carrier);
    multi.inject({ spanContext: { traceId: T128, spanId: '0'.repeat(16), traceFlags: 1 } }, carrier);
    expect(carrier).toEqual({});
  });

  it('rejects an unknown inject option with a RangeError naming it', () => {
    expect(() => b3({ inject: 'both' as 'single' })).toThrow(/options\.inject must be 'single' or 'multi'/);
  });

  it('names itself after the OTEL_PROPAGATORS value it matches', () => {
    expect(single.name).toBe('b3');
    expect(multi.name).toBe('b3multi');
  });
});

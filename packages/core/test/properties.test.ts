import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Baggage,
  b3,
  defaultPropagator,
  isSpanContextValid,
  jaeger,
  type PropagationContext,
  type Propagator,
  TraceState,
  w3cBaggage,
  w3cTraceContext,
} from '../src/index.js';

const hexId = (length: number) =>
  fc.stringMatching(new RegExp(`^[0-9a-f]{${length}}$`)).filter((id) => /[1-9a-f]/.test(id));
const traceId = hexId(32);
const spanId = hexId(16);

const traceStateKey = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9_\-*/]{0,15}$/),
  fc.stringMatching(/^[a-z0-9][a-z0-9_\-*/]{0,10}@[a-z][a-z0-9_\-*/]{0,13}$/),
);
const traceStateValue = fc.stringMatching(/^[ -+\--<>-~]{0,20}[!-+\--<>-~]$/);
const traceState = fc
  .uniqueArray(fc.tuple(traceStateKey, traceStateValue), {
    selector: ([k]) => k,
    minLength: 1,
    maxLength: 12,
  })
  .map((members) => TraceState.parse(members.map(([k, v]) => `${k}=${v}`).join(','))!);

const baggageKey = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
const baggageProperty = fc.oneof(
  baggageKey,
  fc.tuple(baggageKey, fc.stringMatching(/^[!#-+\--:<-[\]-~]{0,8}$/)).map(([k, v]) => `${k}=${v}`),
);
const baggage = fc
  .uniqueArray(
    fc.tuple(
      baggageKey,
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.option(fc.array(baggageProperty, { minLength: 1, maxLength: 3 })),
    ),
    { selector: ([k]) => k, minLength: 1, maxLength: 10 },
  )
  .map((entries) => {
    let b = Baggage.empty();
    for (const [k, v, props] of entries) b = b.set(k, v, props?.join(';'));
    return b;
  });

function roundTrip(propagator: Propagator, context: PropagationContext): PropagationContext {
  const carrier: Record<string, string> = {};
  propagator.inject(context, carrier);
  return propagator.extract(carrier);
}

const baggageObject = (b: Baggage | undefined) => Object.fromEntries(b?.entries() ?? []);

describe('inject → extract round trips to the same context', () => {
  it('w3cTraceContext keeps ids, the sampled and random flags, and tracestate', () => {
    fc.assert(
      fc.property(
        traceId,
        spanId,
        fc.integer({ min: 0, max: 3 }),
        fc.option(traceState),
        (t, s, flags, ts) => {
          const spanContext = { traceId: t, spanId: s, traceFlags: flags, traceState: ts ?? undefined };
          const out = roundTrip(w3cTraceContext, { spanContext }).spanContext;
          expect(out).toMatchObject({ traceId: t, spanId: s, traceFlags: flags, isRemote: true });
          expect(out?.traceState?.serialize()).toBe(ts?.serialize());
        },
      ),
    );
  });

  it.each([
    ['b3 single', b3()],
    ['b3 multi', b3({ inject: 'multi' })],
    ['jaeger', jaeger],
  ])('%s keeps ids and the sampled flag', (_name, propagator) => {
    fc.assert(
      fc.property(traceId, spanId, fc.integer({ min: 0, max: 1 }), (t, s, flags) => {
        const out = roundTrip(propagator, { spanContext: { traceId: t, spanId: s, traceFlags: flags } });
        expect(out.spanContext).toEqual({ traceId: t, spanId: s, traceFlags: flags, isRemote: true });
      }),
    );
  });

  it('w3cBaggage keeps every key, value (any Unicode) and metadata', () => {
    fc.assert(
      fc.property(baggage, (b) => {
        expect(baggageObject(roundTrip(w3cBaggage, { baggage: b }).baggage)).toEqual(baggageObject(b));
      }),
    );
  });

  it('jaeger keeps baggage values (any Unicode) under lowercase keys', () => {
    fc.assert(
      fc.property(baggage, (b) => {
        const lower = [...b.entries()].reduce(
          (acc, [k, v]) => acc.set(k.toLowerCase(), v.value),
          Baggage.empty(),
        );
        const out = roundTrip(jaeger, { baggage: lower }).baggage;
        expect(Object.fromEntries([...(out?.entries() ?? [])].map(([k, v]) => [k, v.value]))).toEqual(
          Object.fromEntries([...lower.entries()].map(([k, v]) => [k, v.value])),
        );
      }),
    );
  });

  it('the default propagator round-trips span context and baggage through W3C headers', () => {
    fc.assert(
      fc.property(traceId, spanId, fc.integer({ min: 0, max: 3 }), baggage, (t, s, flags, b) => {
        const out = roundTrip(defaultPropagator, {
          spanContext: { traceId: t, spanId: s, traceFlags: flags },
          baggage: b,
        });
        expect(out.spanContext).toMatchObject({ traceId: t, spanId: s, traceFlags: flags });
        expect(baggageObject(out.baggage)).toEqual(baggageObject(b));
        expect(out.conflicting).toBeUndefined();
      }),
    );
  });
});

const HEADERS = [
  'traceparent',
  'tracestate',
  'baggage',
  'b3',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
  'uber-trace-id',
  'uberctx-k',
];
const everything = [w3cTraceContext, w3cBaggage, b3(), b3({ inject: 'multi' }), jaeger, defaultPropagator];

const anyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 80 }),
  fc.stringMatching(/^[0-9a-fA-F\-:%dD,;= ]{0,80}$/),
);
const headerValue = fc.oneof(anyString, fc.array(anyString, { maxLength: 3 }));

/** Anything extract returns must be safe to use and to pass on. */
function expectSafe(result: PropagationContext): void {
  if (result.spanContext !== undefined) expect(isSpanContextValid(result.spanContext)).toBe(true);
  for (const sc of result.conflicting ?? []) expect(isSpanContextValid(sc)).toBe(true);
  const carrier: Record<string, string> = {};
  defaultPropagator.inject(result, carrier);
  jaeger.inject(result, carrier);
  b3({ inject: 'multi' }).inject(result, carrier);
  for (const value of Object.values(carrier)) expect(value).toMatch(/^[\x20-\x7e]*$/);
  if (carrier.tracestate !== undefined) expect(carrier.tracestate.length).toBeLessThanOrEqual(512);
  if (carrier.baggage !== undefined) expect(carrier.baggage.length).toBeLessThanOrEqual(8192);
}

describe('random and mutated headers never throw and never produce an invalid context', () => {
  it('random values in every header', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...HEADERS), headerValue), (headers) => {
        for (const p of everything) expectSafe(p.extract(headers));
      }),
      { numRuns: 500 },
    );
  });

  const valid = fc
    .tuple(traceId, spanId)
    .chain(([t, s]) =>
      fc.constantFrom<[string, string]>(
        ['traceparent', `00-${t}-${s}-01`],
        ['traceparent', `01-${t}-${s}-01-future`],
        ['tracestate', 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,a@b=c'],
        ['b3', `${t}-${s}-1-${s}`],
        ['x-b3-traceid', t],
        ['x-b3-spanid', s],
        ['uber-trace-id', `${t}:${s}:0:1`],
        ['uber-trace-id', `${t}%3A${s}%3A0%3A1`],
        ['baggage', 'k=v%20w;p=1,other=J%C3%BCrgen'],
        ['uberctx-k', 'J%C3%BCrgen'],
      ),
    );
  const mutation = fc.record({
    at: fc.nat(),
    kind: fc.constantFrom('replace', 'insert', 'delete', 'upper', 'truncate'),
    char: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  });

  function mutate(value: string, m: { at: number; kind: string; char: string }): string {
    const i = value.length === 0 ? 0 : m.at % value.length;
    switch (m.kind) {
      case 'replace':
        return value.slice(0, i) + m.char + value.slice(i + 1);
      case 'insert':
        return value.slice(0, i) + m.char + value.slice(i);
      case 'delete':
        return value.slice(0, i) + value.slice(i + 1);
      case 'upper':
        return value.slice(0, i) + value.slice(i).toUpperCase();
      default:
        return value.slice(0, i);
    }
  }

  it('valid headers with one to three mutations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 3 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (list) => {
          const headers: Record<string, string> = {};
          for (const [[name, value], mutations] of list) headers[name] = mutations.reduce(mutate, value);
          for (const p of everything) expectSafe(p.extract(headers));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('TraceState.parse of any string never throws, and what it keeps re-parses to itself', () => {
    fc.assert(
      fc.property(anyString, (header) => {
        const ts = TraceState.parse(header);
        if (ts !== undefined) {
          expect(ts.serialize().length).toBeLessThanOrEqual(512);
          expect(TraceState.parse(ts.serialize())?.serialize()).toBe(ts.serialize());
        }
      }),
      { numRuns: 500 },
    );
  });

  it('Baggage.parse of any string never throws, and what it keeps re-parses to itself', () => {
    fc.assert(
      fc.property(anyString, (header) => {
        const b = Baggage.parse(header);
        expect(baggageObject(Baggage.parse(b.serialize()))).toEqual(baggageObject(b));
      }),
      { numRuns: 500 },
    );
  });
});

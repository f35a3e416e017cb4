import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { toOtlpJson } from '../src/exporters/otlp-json.js';
import { toUnixNano } from '../src/exporters/unix-nano.js';
import { oracleSpans } from './fixtures/oracle-spans.js';
import { makeSpan } from './fixtures/spans.js';

/** OTel's JSON serializer writes intValue as a JSON number; proto3 JSON (and we) write int64 as a string. */
function intValuesAsStrings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(intValuesAsStrings);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = key === 'intValue' && typeof item === 'number' ? String(item) : intValuesAsStrings(item);
  }
  return out;
}

describe('toOtlpJson', () => {
  it('matches OpenTelemetry JsonTraceSerializer output for the same spans', () => {
    const { ours, theirs } = oracleSpans();
    const oracle = JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(theirs)));
    const actual = JSON.parse(JSON.stringify(toOtlpJson(ours)));
    expect(actual).toEqual(intValuesAsStrings(oracle));
  });

  it('the oracle comparison is sensitive: a changed span id makes it fail', () => {
    const { ours, theirs } = oracleSpans();
    const oracle = intValuesAsStrings(
      JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(theirs))),
    );
    const tampered = ours.map((span, i) =>
      i === 1
        ? { ...span, spanContext: () => ({ ...span.spanContext(), spanId: 'ffffffffffffffff' }) }
        : span,
    );
    expect(JSON.parse(JSON.stringify(toOtlpJson(tampered)))).not.toEqual(oracle);
  });

  it('groups spans by resource, then by instrumentation scope name and version', () => {
    const { ours } = oracleSpans();
    const json = toOtlpJson(ours);
    expect(json.resourceSpans).toHaveLength(2);
    expect(json.resourceSpans[0]!.scopeSpans.map((s) => [s.scope.name, s.spans.length])).toEqual([
      ['@tracewire/express', 2],
      ['@tracewire/node', 1],
    ]);
    expect(json.resourceSpans[1]!.scopeSpans.map((s) => [s.scope.name, s.spans.length])).toEqual([
      ['worker', 2],
    ]);
  });

  it('writes hex ids, SpanKind+1, integer status codes, parent, traceState and flags with the remote-parent bits', () => {
    const span = toOtlpJson(oracleSpans().ours).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(span).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      parentSpanId: 'b7ad6b7169203331',
      traceState: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
      kind: 2,
      status: { code: 2, message: 'upstream timed out' },
      flags: 0x301,
      startTimeUnixNano: '1732550000123500000',
      endTimeUnixNano: '1732550000135750000',
    });
  });

  it('encodes attribute types as stringValue, intValue strings, doubleValue, boolValue and arrayValue', () => {
    const json = toOtlpJson([
      makeSpan({
        attributes: { s: 'x', i: 42, neg: -7, d: 1.5, b: true, arr: [1, 2.5], big: 2 ** 60, nan: Number.NaN },
      }),
    ]);
    expect(json.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.attributes).toEqual([
      { key: 's', value: { stringValue: 'x' } },
      { key: 'i', value: { intValue: '42' } },
      { key: 'neg', value: { intValue: '-7' } },
      { key: 'd', value: { doubleValue: 1.5 } },
      { key: 'b', value: { boolValue: true } },
      { key: 'arr', value: { arrayValue: { values: [{ intValue: '1' }, { doubleValue: 2.5 }] } } },
      { key: 'big', value: { intValue: '1152921504606846976' } },
      { key: 'nan', value: { doubleValue: 'NaN' } },
    ]);
  });

  it('omits parentSpanId for a root span and marks its parent as known-not-remote', () => {
    const span = toOtlpJson([makeSpan({ traceFlags: 1 })]).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(span.parentSpanId).toBeUndefined();
    expect(span.flags).toBe(0x101);
  });
});

describe('toUnixNano', () => {
  it('keeps the sub-millisecond fraction that ms * 1e6 would round away', () => {
    // 1700000000000.1 is stored as 1700000000000.10009765625 ms → 100097.65625 ns past the millisecond.
    expect(toUnixNano(1_700_000_000_000.1)).toBe(1_700_000_000_000_100_098n);
    expect(BigInt(Math.round(1_700_000_000_000.1 * 1e6))).not.toBe(1_700_000_000_000_100_098n);
  });

  it('is exact for whole and binary-fraction milliseconds', () => {
    expect(toUnixNano(1_732_550_000_123)).toBe(1_732_550_000_123_000_000n);
    expect(toUnixNano(1_732_550_000_123.25)).toBe(1_732_550_000_123_250_000n);
  });

  it('maps invalid times to 0', () => {
    expect(toUnixNano(Number.NaN)).toBe(0n);
    expect(toUnixNano(-1)).toBe(0n);
  });
});

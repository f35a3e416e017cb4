import { describe, expect, it } from 'vitest';
import { isSampled, isSpanContextValid, isValidSpanId, isValidTraceId, TraceFlags } from '../src/index.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

describe('span context validity (W3C Trace Context §3.2.2.3, §3.2.2.4)', () => {
  it('accepts lowercase hex ids that are not all zero', () => {
    expect(isValidTraceId(T)).toBe(true);
    expect(isValidSpanId(S)).toBe(true);
  });

  it.each([
    ['uppercase', T.toUpperCase()],
    ['all zeros', '0'.repeat(32)],
    ['31 characters', T.slice(1)],
    ['33 characters', `${T}0`],
    ['a non-hex character', `${T.slice(0, 31)}g`],
    ['empty', ''],
  ])('rejects a trace id that is %s', (_why, id) => {
    expect(isValidTraceId(id)).toBe(false);
  });

  it.each([
    ['uppercase', S.toUpperCase()],
    ['all zeros', '0'.repeat(16)],
    ['15 characters', S.slice(1)],
    ['a trace id', T],
  ])('rejects a span id that is %s', (_why, id) => {
    expect(isValidSpanId(id)).toBe(false);
  });

  it('rejects one bad character at any position, even or odd', () => {
    // Ids are checked two characters at a time; a bad character must count in either half of a pair.
    for (const bad of ['g', 'G', 'A', '-', ' ', '\0', 'é', '\u0130', '\u{1F600}'.charAt(0)]) {
      for (let at = 0; at < 32; at++) {
        expect(
          isValidTraceId(T.slice(0, at) + bad + T.slice(at + 1)),
          `${JSON.stringify(bad)} at ${at}`,
        ).toBe(false);
        if (at < 16) expect(isValidSpanId(S.slice(0, at) + bad + S.slice(at + 1))).toBe(false);
      }
    }
  });

  it('accepts an id with a single non-zero digit at any position', () => {
    for (let at = 0; at < 32; at++) {
      for (const digit of '19af') {
        expect(isValidTraceId('0'.repeat(at) + digit + '0'.repeat(31 - at))).toBe(true);
        if (at < 16) expect(isValidSpanId('0'.repeat(at) + digit + '0'.repeat(15 - at))).toBe(true);
      }
    }
  });

  it('rejects values that are not strings', () => {
    expect(isValidTraceId(undefined as unknown as string)).toBe(false);
    expect(isValidSpanId(42 as unknown as string)).toBe(false);
    expect(isSpanContextValid(undefined)).toBe(false);
  });

  it('checks ids and that flags fit in one byte', () => {
    expect(isSpanContextValid({ traceId: T, spanId: S, traceFlags: 0 })).toBe(true);
    expect(isSpanContextValid({ traceId: T, spanId: S, traceFlags: 0xff })).toBe(true);
    expect(isSpanContextValid({ traceId: T, spanId: S, traceFlags: 0x100 })).toBe(false);
    expect(isSpanContextValid({ traceId: T, spanId: S, traceFlags: -1 })).toBe(false);
    expect(isSpanContextValid({ traceId: T, spanId: S, traceFlags: Number.NaN })).toBe(false);
  });

  it('reads the sampled bit with a mask (§3.2.2.5: a bit field, not a number)', () => {
    expect(isSampled({ traceId: T, spanId: S, traceFlags: TraceFlags.SAMPLED | TraceFlags.RANDOM })).toBe(
      true,
    );
    expect(isSampled({ traceId: T, spanId: S, traceFlags: TraceFlags.RANDOM })).toBe(false);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  b3,
  generateSpanId,
  generateTraceId,
  hasSpanContextIdWords,
  isValidSpanId,
  isValidTraceId,
  lastIdWord,
  spanContextIdWord,
  w3cTraceContext,
} from '../src/index.js';

describe('id generation', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('generates 32 lowercase hex trace ids and 16 lowercase hex span ids', () => {
    for (let i = 0; i < 1000; i++) {
      expect(generateTraceId()).toMatch(/^[0-9a-f]{32}$/);
      expect(generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('does not repeat ids across pool refills', () => {
    const ids = new Set(Array.from({ length: 5000 }, generateSpanId));
    expect(ids.size).toBe(5000);
  });

  it('never returns an all-zero id, even when the random source yields zeros', () => {
    // The first refill is all zeros; 1100 trace and span ids exhaust the 4 KiB pool several times.
    let calls = 0;
    const real = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
    vi.spyOn(globalThis.crypto, 'getRandomValues').mockImplementation((array) => {
      calls++;
      if (calls === 1 && array instanceof Uint8Array) array.fill(0);
      else real(array);
      return array;
    });
    for (let i = 0; i < 1100; i++) {
      expect(isValidSpanId(generateSpanId())).toBe(true);
      expect(isValidTraceId(generateTraceId())).toBe(true);
    }
    expect(calls).toBeGreaterThan(1);
  });
});

/** Big-endian 32-bit words (signed) as the hex they spell. */
const hexOfWords = (words: number[]): string =>
  words.map((w) => (w >>> 0).toString(16).padStart(8, '0')).join('');

describe('ids as 32-bit words', () => {
  it('lastIdWord: the words of the id generated last, for trace ids and span ids, pool after pool', () => {
    // Past several pools of 4096 bytes.
    for (let i = 0; i < 1000; i++) {
      const traceId = generateTraceId();
      expect(hexOfWords([0, 1, 2, 3].map(lastIdWord))).toBe(traceId);
      const spanId = generateSpanId();
      expect(hexOfWords([lastIdWord(0), lastIdWord(1)])).toBe(spanId);
    }
  });

  it('spanContextIdWord: the trace id and span id of a traceparent context, nothing for other contexts', () => {
    for (const traceId of ['4bf92f3577b34da6a3ce929d0e0e4736', 'ffffffffffffffff8000000000000001']) {
      const header = `00-${traceId}-80f067aa0ba902b7-01`;
      const context = w3cTraceContext.extract({ traceparent: header }).spanContext!;
      expect(hasSpanContextIdWords(context)).toBe(true);
      const words = [0, 1, 2, 3, 4, 5].map((i) => spanContextIdWord(context, i));
      expect(hexOfWords(words)).toBe(`${traceId}80f067aa0ba902b7`);
    }
    const fromB3 = b3().extract({ b3: '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1' }).spanContext!;
    expect(hasSpanContextIdWords(fromB3)).toBe(false);
    const header = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const context = w3cTraceContext.extract({ traceparent: header }).spanContext!;
    expect(hasSpanContextIdWords({ ...context })).toBe(false);
    (context as { spanId: string }).spanId = 'b7ad6b7169203331';
    expect(hasSpanContextIdWords(context)).toBe(false);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateSpanId, generateTraceId, isValidSpanId, isValidTraceId } from '../src/index.js';

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

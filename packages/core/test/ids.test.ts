import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  b3,
  generateSpanId,
  generateTraceId,
  isValidSpanId,
  isValidTraceId,
  lastIdBytes,
  lastIdOffset,
  spanContextIdBytes,
  spanContextIdBytesOffset,
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

const hexOf = (bytes: Uint8Array, at: number, length: number): string =>
  Buffer.from(bytes.subarray(at, at + length)).toString('hex');

describe('ids with their bytes', () => {
  it("lastIdBytes: where the last id's bytes lie, left as they were while more ids are drawn", () => {
    const drawn: { id: string; bytes: Uint8Array; at: number; length: number }[] = [];
    // Past several pools of 4096 bytes: a full pool is replaced, not drawn from again.
    for (let i = 0; i < 1000; i++) {
      const traceId = generateTraceId();
      drawn.push({ id: traceId, bytes: lastIdBytes(), at: lastIdOffset(), length: 16 });
      const spanId = generateSpanId();
      drawn.push({ id: spanId, bytes: lastIdBytes(), at: lastIdOffset(), length: 8 });
    }
    for (const { id, bytes, at, length } of drawn) expect(hexOf(bytes, at, length)).toBe(id);
    expect(new Set(drawn.map((d) => d.bytes)).size).toBeGreaterThan(5);
  });

  it('spanContextIdBytes: the trace id and span id of a traceparent context, nothing for other contexts', () => {
    const contexts = Array.from({ length: 400 }, (_, i) => {
      const traceId = `4bf92f3577b34da6a3ce929d${i.toString(16).padStart(8, '0')}`;
      const header = `00-${traceId}-00f067aa0ba902b7-01`;
      return { traceId, context: w3cTraceContext.extract({ traceparent: header }).spanContext! };
    });
    // Every context keeps its own bytes, past the first block of decoded ids (4096 bytes, 170 contexts).
    for (const { traceId, context } of contexts) {
      const bytes = spanContextIdBytes(context)!;
      expect(hexOf(bytes, spanContextIdBytesOffset(context), 24)).toBe(`${traceId}00f067aa0ba902b7`);
    }
    const fromB3 = b3().extract({ b3: '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1' }).spanContext!;
    expect(spanContextIdBytes(fromB3)).toBeUndefined();
    expect(spanContextIdBytes({ ...contexts[0]!.context })).toBeUndefined();
  });

  it('spanContextIdBytes: nothing for a traceparent context given other ids since', () => {
    const header = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const context = w3cTraceContext.extract({ traceparent: header }).spanContext as { spanId: string };
    context.spanId = 'b7ad6b7169203331';
    expect(spanContextIdBytes(context as never)).toBeUndefined();
  });
});

import { generateTraceId, type SpanContext, TraceFlags } from '@tracewire/core';
import { describe, expect, it } from 'vitest';
import { alwaysOff, alwaysOn, type Sampler } from '../src/sampler.js';
import { parentBased } from '../src/sampler-parent-based.js';
import { rateLimited } from '../src/sampler-rate-limited.js';
import { traceIdRatio } from '../src/sampler-trace-id-ratio.js';
import { SpanKind } from '../src/span-data.js';
import { Tracer } from '../src/tracer.js';

const sample = (sampler: Sampler, traceId: string, parent?: SpanContext) =>
  sampler.shouldSample(traceId, parent, 'span', 0);

describe('alwaysOn / alwaysOff', () => {
  it('sample everything / nothing', () => {
    expect(sample(alwaysOn, generateTraceId())).toBe(true);
    expect(sample(alwaysOff, generateTraceId())).toBe(false);
    expect(String(alwaysOn)).toBe('AlwaysOnSampler');
    expect(String(alwaysOff)).toBe('AlwaysOffSampler');
  });
});

describe('traceIdRatio', () => {
  it('decides on the trace id’s rightmost 56 bits against the threshold (1 - ratio) * 2^56', () => {
    const half = traceIdRatio(0.5);
    // R = 0x80000000000000 = 2^55 is exactly the threshold for 0.5: sampled; one below is not.
    expect(sample(half, 'ffffffffffffffffff80000000000000')).toBe(true);
    expect(sample(half, 'ffffffffffffffffff7fffffffffffff')).toBe(false);
    // The leftmost 9 bytes play no part.
    expect(sample(half, '000000000000000000ffffffffffffff')).toBe(true);
    expect(sample(half, 'ffffffffffffffffff00000000000001')).toBe(false);
  });

  it('samples everything at 1 and nothing at 0', () => {
    for (let i = 0; i < 200; i++) {
      const id = generateTraceId();
      expect(sample(traceIdRatio(1), id)).toBe(true);
      expect(sample(traceIdRatio(0), id)).toBe(false);
    }
    expect(sample(traceIdRatio(1), '00000000000000000000000000000001')).toBe(true);
    expect(sample(traceIdRatio(0), 'ffffffffffffffffffffffffffffffff')).toBe(false);
  });

  it('gives the same answer for the same trace id in two separate tracers (services agree)', () => {
    const a = new Tracer({ sampler: traceIdRatio(0.3) });
    const b = new Tracer({ sampler: traceIdRatio(0.3) });
    let sampled = 0;
    for (let i = 0; i < 2000; i++) {
      const parent: SpanContext = { traceId: generateTraceId(), spanId: '1'.repeat(16), traceFlags: 1 };
      const inA = a.startSpan('x', { parent }).isRecording();
      const inB = b.startSpan('x', { parent }).isRecording();
      expect(inA).toBe(inB);
      if (inA) sampled++;
    }
    // 2000 draws at p=0.3: mean 600, sd ~20; 450..750 is over 7 sd.
    expect(sampled).toBeGreaterThan(450);
    expect(sampled).toBeLessThan(750);
  });

  it('samples a higher ratio as a superset of a lower one', () => {
    const low = traceIdRatio(0.1);
    const high = traceIdRatio(0.6);
    for (let i = 0; i < 1000; i++) {
      const id = generateTraceId();
      if (sample(low, id)) expect(sample(high, id)).toBe(true);
    }
  });

  it('rejects a ratio outside [0, 1] with a RangeError', () => {
    for (const bad of [-0.1, 1.5, Number.NaN, '0.5' as never]) {
      expect(() => traceIdRatio(bad)).toThrow(RangeError);
    }
    expect(() => traceIdRatio(2)).toThrow('ratio must be a number from 0 to 1');
  });

  it('describes itself', () => {
    expect(String(traceIdRatio(0.25))).toBe('TraceIdRatioBased{0.25}');
  });
});

describe('parentBased', () => {
  const context = (flags: number, isRemote: boolean): SpanContext => ({
    traceId: generateTraceId(),
    spanId: '2'.repeat(16),
    traceFlags: flags,
    isRemote,
  });

  it('asks root only for new traces', () => {
    const onRoot = parentBased({ root: alwaysOn });
    const offRoot = parentBased({ root: alwaysOff });
    expect(sample(onRoot, generateTraceId())).toBe(true);
    expect(sample(offRoot, generateTraceId())).toBe(false);
    expect(sample(offRoot, generateTraceId(), context(TraceFlags.SAMPLED, true))).toBe(true);
  });

  it('honours the remote and local sampled flag by default', () => {
    const sampler = parentBased({ root: alwaysOff });
    expect(sample(sampler, 'a'.repeat(32), context(TraceFlags.SAMPLED, true))).toBe(true);
    expect(sample(sampler, 'a'.repeat(32), context(TraceFlags.NONE, true))).toBe(false);
    expect(sample(sampler, 'a'.repeat(32), context(TraceFlags.SAMPLED, false))).toBe(true);
    expect(sample(sampler, 'a'.repeat(32), context(TraceFlags.RANDOM, false))).toBe(false);
  });

  it('asks root for a remote parent that deferred its decision (B3 without a sampling state)', () => {
    const deferred = { ...context(TraceFlags.NONE, true), samplingDeferred: true };
    expect(sample(parentBased({ root: alwaysOn }), deferred.traceId, deferred)).toBe(true);
    expect(
      sample(parentBased({ root: alwaysOff, remoteParentNotSampled: alwaysOn }), deferred.traceId, deferred),
    ).toBe(false);
  });

  it('uses the configured delegate for each of the four parent cases', () => {
    const sampler = parentBased({
      root: alwaysOff,
      remoteParentSampled: alwaysOff,
      remoteParentNotSampled: alwaysOn,
      localParentSampled: alwaysOff,
      localParentNotSampled: alwaysOn,
    });
    expect(sample(sampler, 'a'.repeat(32), context(1, true))).toBe(false);
    expect(sample(sampler, 'a'.repeat(32), context(0, true))).toBe(true);
    expect(sample(sampler, 'a'.repeat(32), context(1, false))).toBe(false);
    expect(sample(sampler, 'a'.repeat(32), context(0, false))).toBe(true);
  });

  it('keeps a whole trace together inside one tracer: children follow the sampled root', () => {
    const tracer = new Tracer({ sampler: parentBased({ root: traceIdRatio(0.5) }) });
    for (let i = 0; i < 100; i++) {
      const root = tracer.startSpan('root', { parent: null });
      const child = tracer.startSpan('child', { parent: root.spanContext() });
      expect(child.isRecording()).toBe(root.isRecording());
    }
  });

  it('requires a root sampler and describes itself', () => {
    expect(() => parentBased({} as never)).toThrow(TypeError);
    expect(() => parentBased({ root: alwaysOn, localParentSampled: 'x' as never })).toThrow(
      'options.localParentSampled must be a Sampler',
    );
    expect(String(parentBased({ root: traceIdRatio(0.5) }))).toBe(
      'ParentBased{root=TraceIdRatioBased{0.5},remoteParentSampled=AlwaysOnSampler,remoteParentNotSampled=AlwaysOffSampler,localParentSampled=AlwaysOnSampler,localParentNotSampled=AlwaysOffSampler}',
    );
  });
});

describe('rateLimited', () => {
  function clock() {
    let time = 0;
    return {
      now: () => time,
      advance(ms: number) {
        time += ms;
      },
    };
  }
  const count = (sampler: Sampler, tries: number) => {
    let sampled = 0;
    for (let i = 0; i < tries; i++) if (sample(sampler, generateTraceId())) sampled++;
    return sampled;
  };

  it('samples at most N traces in a burst, then refills at N per second', () => {
    const time = clock();
    const sampler = rateLimited(10, time.now);
    expect(count(sampler, 1000)).toBe(10);
    time.advance(500);
    expect(count(sampler, 1000)).toBe(5);
    time.advance(100);
    expect(count(sampler, 1000)).toBe(1);
    time.advance(60_000);
    expect(count(sampler, 1000)).toBe(10);
  });

  it('caps steady traffic at N per second over a long run', () => {
    const time = clock();
    const sampler = rateLimited(5, time.now);
    let sampled = 0;
    for (let ms = 0; ms < 10_000; ms += 10) {
      time.advance(10);
      sampled += count(sampler, 3);
    }
    // 5 to start plus 5 per second for 10 s.
    expect(sampled).toBeLessThanOrEqual(55);
    expect(sampled).toBeGreaterThanOrEqual(50);
  });

  it('handles fractional rates and zero', () => {
    const time = clock();
    const slow = rateLimited(0.5, time.now);
    expect(count(slow, 10)).toBe(1);
    time.advance(1000);
    expect(count(slow, 10)).toBe(0);
    time.advance(1000);
    expect(count(slow, 10)).toBe(1);
    expect(count(rateLimited(0, time.now), 10)).toBe(0);
  });

  it('works with the real clock', () => {
    expect(count(rateLimited(3), 100)).toBeLessThanOrEqual(4);
  });

  it('keeps each trace whole as a bare sampler: spans under a local parent follow it and take no token', () => {
    const time = clock();
    const tracer = new Tracer({ sampler: rateLimited(2, time.now) });
    const traces = Array.from({ length: 5 }, () => {
      const root = tracer.startSpan('GET /users/:id', { parent: null, kind: SpanKind.SERVER });
      const child = tracer.startSpan('query', { parent: root.spanContext() });
      const call = tracer.startSpan('GET', { parent: child.spanContext(), kind: SpanKind.CLIENT });
      return [root, child, call].map((span) => span.isRecording());
    });
    // Two tokens: the first two traces whole, the rest not at all (asked per span, the children took tokens).
    expect(traces).toEqual([
      [true, true, true],
      [true, true, true],
      [false, false, false],
      [false, false, false],
      [false, false, false],
    ]);
  });

  it('takes a token for a span under a remote parent, whatever the caller decided', () => {
    const time = clock();
    const sampler = rateLimited(1, time.now);
    const remote = (traceFlags: number): SpanContext => ({
      traceId: generateTraceId(),
      spanId: '1'.repeat(16),
      traceFlags,
      isRemote: true,
    });
    expect(sample(sampler, generateTraceId(), remote(TraceFlags.NONE))).toBe(true);
    expect(sample(sampler, generateTraceId(), remote(TraceFlags.SAMPLED))).toBe(false);
    time.advance(1000);
    expect(sample(sampler, generateTraceId(), remote(TraceFlags.SAMPLED))).toBe(true);
  });

  it('rejects a negative or non-finite rate with a RangeError', () => {
    for (const bad of [-1, Number.POSITIVE_INFINITY, Number.NaN])
      expect(() => rateLimited(bad)).toThrow(RangeError);
    expect(String(rateLimited(7))).toBe('RateLimitingSampler{7}');
  });
});

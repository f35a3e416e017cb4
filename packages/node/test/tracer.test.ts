import { b3, type Propagator, type SpanContext, TraceFlags, w3cTraceContext } from '@tracewire/core';
import { describe, expect, it } from 'vitest';
import { getActiveSpan, suppressTracing, withSpan } from '../src/context.js';
import { NonRecordingSpan } from '../src/non-recording-span.js';
import type { RecordingSpan } from '../src/recording-span.js';
import { alwaysOff, alwaysOn, type Sampler } from '../src/sampler.js';
import { parentBased } from '../src/sampler-parent-based.js';
import { SpanKind } from '../src/span-data.js';
import type { SpanProcessor } from '../src/span-processor.js';
import { Tracer } from '../src/tracer.js';
import { SpanCollector } from './span-collector.js';

const REMOTE_SAMPLED: SpanContext = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
};
const REMOTE_UNSAMPLED: SpanContext = { ...REMOTE_SAMPLED, traceFlags: TraceFlags.NONE };

describe('Tracer.startSpan', () => {
  it('starts a new trace when parent is null, even inside an active span', () => {
    const tracer = new Tracer();
    const outer = tracer.startSpan('outer', { parent: null });
    const inner = withSpan(outer, () => tracer.startSpan('inner', { parent: null })) as RecordingSpan;
    expect(inner.spanContext().traceId).not.toBe(outer.spanContext().traceId);
    expect(inner.parentSpanId).toBeUndefined();
  });

  it('uses the active span as parent when parent is undefined', () => {
    const tracer = new Tracer();
    const outer = tracer.startSpan('outer', { parent: null });
    const inner = withSpan(outer, () => tracer.startSpan('inner')) as RecordingSpan;
    expect(inner.spanContext().traceId).toBe(outer.spanContext().traceId);
    expect(inner.parentSpanId).toBe(outer.spanContext().spanId);
    expect(inner.parentIsRemote).toBe(false);
  });

  it("keeps a B3/Jaeger debug parent's debug flag on its children, and sets it on no other span", () => {
    const tracer = new Tracer();
    const child = tracer.startSpan('child', { parent: { ...REMOTE_SAMPLED, debug: true } });
    expect(child.spanContext().debug).toBe(true);
    const grandchild = tracer.startSpan('grandchild', { parent: child.spanContext() });
    expect(grandchild.spanContext().debug).toBe(true);
    expect(tracer.startSpan('plain', { parent: REMOTE_SAMPLED }).spanContext().debug).toBeUndefined();
    expect(tracer.startSpan('root', { parent: null }).spanContext().debug).toBeUndefined();
    // Debug is a sampling decision of the caller: not kept when those are not trusted.
    const distrusted = tracer.startSpan('x', {
      parent: { ...REMOTE_SAMPLED, debug: true },
      sampleAsRoot: true,
    });
    expect(distrusted.spanContext().debug).toBeUndefined();
  });

  it('drops the debug flag when a sampler that ignores the parent declines the span', () => {
    const tracer = new Tracer({ sampler: alwaysOff });
    const span = tracer.startSpan('declined', { parent: { ...REMOTE_SAMPLED, debug: true } });
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().debug).toBeUndefined();
    // What the next hop reads: B3 unsampled, not debug (which B3 defines as "sampled").
    const headers: Record<string, string> = {};
    b3().inject({ spanContext: span.spanContext() }, headers);
    expect(headers.b3).toBe(`${REMOTE_SAMPLED.traceId}-${span.spanContext().spanId}-0`);
  });

  it('uses an explicit remote parent and keeps its trace state', () => {
    const tracer = new Tracer();
    const traceState = { serialize: () => 'k=v' } as unknown as SpanContext['traceState'];
    const span = tracer.startSpan('child', { parent: { ...REMOTE_SAMPLED, traceState } }) as RecordingSpan;
    const context = span.spanContext();
    expect(context.traceId).toBe(REMOTE_SAMPLED.traceId);
    expect(context.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(context.spanId).not.toBe(REMOTE_SAMPLED.spanId);
    expect(context.traceState).toBe(traceState);
    expect(context.isRemote).toBe(false);
    expect(span.parentSpanId).toBe(REMOTE_SAMPLED.spanId);
    expect(span.parentIsRemote).toBe(true);
  });

  it('treats an invalid explicit parent as no parent', () => {
    const tracer = new Tracer();
    const span = tracer.startSpan('x', {
      parent: { traceId: '0'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 },
    });
    expect(span.spanContext().traceId).not.toBe('0'.repeat(32));
    expect((span as RecordingSpan).parentSpanId).toBeUndefined();
  });

  it('follows the remote sampled flag by default (parent-based, always on for roots)', () => {
    const tracer = new Tracer();
    expect(tracer.startSpan('root', { parent: null }).isRecording()).toBe(true);
    expect(tracer.startSpan('s', { parent: REMOTE_SAMPLED }).isRecording()).toBe(true);
    expect(tracer.startSpan('u', { parent: REMOTE_UNSAMPLED }).isRecording()).toBe(false);
    expect(tracer.sampler.toString()).toMatch(/^ParentBased\{root=AlwaysOnSampler/);
  });

  it('returns an unsampled span that still propagates: same trace, new span id, sampled flag cleared', () => {
    const tracer = new Tracer({ sampler: alwaysOff });
    const span = tracer.startSpan('dropped', { parent: { ...REMOTE_SAMPLED, traceFlags: 0x03 } });
    expect(span).toBeInstanceOf(NonRecordingSpan);
    const context = span.spanContext();
    expect(context.traceId).toBe(REMOTE_SAMPLED.traceId);
    expect(context.spanId).not.toBe(REMOTE_SAMPLED.spanId);
    expect(context.traceFlags).toBe(TraceFlags.RANDOM);
    const headers: Record<string, string> = {};
    w3cTraceContext.inject({ spanContext: context }, headers);
    expect(headers['traceparent']).toBe(`00-${context.traceId}-${context.spanId}-02`);
  });

  it('gives an unsampled root a fresh valid trace id with sampled=0', () => {
    const tracer = new Tracer({ sampler: alwaysOff });
    const context = tracer.startSpan('root', { parent: null }).spanContext();
    expect(context.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(context.traceFlags).toBe(0);
  });

  it('passes the name, kind, attributes and parent to the sampler', () => {
    const calls: unknown[][] = [];
    const sampler: Sampler = {
      shouldSample: (...args) => {
        calls.push(args);
        return true;
      },
      toString: () => 'Spy',
    };
    const tracer = new Tracer({ sampler });
    tracer.startSpan('n', { parent: REMOTE_SAMPLED, kind: 1, attributes: { a: 1 } });
    expect(calls).toEqual([[REMOTE_SAMPLED.traceId, REMOTE_SAMPLED, 'n', 1, { a: 1 }]]);
  });

  it('counts started and ended spans but not unsampled ones', () => {
    const tracer = new Tracer({
      sampler: { shouldSample: (id) => id.endsWith('0') === false, toString: () => 'x' },
    });
    let recorded = 0;
    for (let i = 0; i < 50; i++) {
      const span = tracer.startSpan('s', { parent: null });
      if (span.isRecording()) recorded++;
      span.end();
    }
    expect(tracer.stats.spansStarted).toBe(recorded);
    expect(tracer.stats.spansEnded).toBe(recorded);
  });

  it('calls processors on start and end, and counts a throwing processor or sampler instead of throwing', () => {
    const collector = new SpanCollector();
    const broken: SpanProcessor = {
      onStart: () => {
        throw new Error('start');
      },
      onEnd: () => {
        throw new Error('end');
      },
      forceFlush: () => Promise.reject(new Error('flush')),
      shutdown: () => Promise.reject(new Error('shutdown')),
    };
    const tracer = new Tracer({ processors: [broken, collector] });
    const span = tracer.startSpan('s', { parent: null });
    span.end();
    expect(collector.started).toBe(1);
    expect(collector.spans).toHaveLength(1);
    expect(tracer.stats.instrumentationErrors).toBe(2);

    const throwing = new Tracer({
      sampler: {
        shouldSample: () => {
          throw new Error('sampler');
        },
        toString: () => 'bad',
      },
    });
    expect(throwing.startSpan('s').isRecording()).toBe(false);
    expect(throwing.stats.instrumentationErrors).toBe(1);
  });

  it('records nothing under suppressTracing', () => {
    const collector = new SpanCollector();
    const tracer = new Tracer({ processors: [collector] });
    const span = suppressTracing(() => tracer.startSpan('exporter call'));
    span.end();
    expect(span.isRecording()).toBe(false);
    expect(collector.spans).toHaveLength(0);
  });

  it('when disabled records nothing but passes the parent context through unchanged', () => {
    const collector = new SpanCollector();
    const tracer = new Tracer({ processors: [collector], disabled: true, sampler: alwaysOn });
    const child = tracer.startSpan('child', { parent: REMOTE_SAMPLED });
    child.end();
    expect(child.isRecording()).toBe(false);
    expect(child.spanContext()).toBe(REMOTE_SAMPLED);
    const root = tracer.startSpan('root', { parent: null });
    const headers: Record<string, string> = {};
    w3cTraceContext.inject({ spanContext: root.spanContext() }, headers);
    expect(headers).toEqual({});
    expect(collector.spans).toHaveLength(0);
    expect(tracer.stats.spansStarted).toBe(0);
  });

  it('takes a sampled option instead of asking the sampler, and marks a sampled span debug on request', () => {
    const collector = new SpanCollector();
    const tracer = new Tracer({ processors: [collector], sampler: parentBased({ root: alwaysOff }) });
    const accepted = tracer.startSpan('accepted', { parent: null, sampled: true });
    expect(accepted.isRecording()).toBe(true);
    expect(accepted.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(TraceFlags.SAMPLED);
    expect(accepted.spanContext().debug).toBeUndefined();
    const debug = tracer.startSpan('debug', { parent: null, sampled: true, debug: true });
    expect(debug.spanContext().debug).toBe(true);
    expect(withSpan(debug, () => tracer.startSpan('child')).spanContext().debug).toBe(true);

    const on = new Tracer({ processors: [collector], sampler: alwaysOn });
    const denied = on.startSpan('denied', { parent: null, sampled: false, debug: true });
    expect(denied.isRecording()).toBe(false);
    expect(denied.spanContext()).toMatchObject({ traceFlags: TraceFlags.NONE, debug: undefined });
    const headers: Record<string, string> = {};
    b3().inject({ spanContext: denied.spanContext() }, headers);
    expect(headers.b3).toMatch(/^[0-9a-f]{32}-[0-9a-f]{16}-0$/);
  });

  it('when disabled passes a deny for a new trace on as an unsampled context, and nothing else', () => {
    const tracer = new Tracer({ disabled: true, sampler: alwaysOn });
    const denied: Record<string, string> = {};
    w3cTraceContext.inject(
      { spanContext: tracer.startSpan('d', { parent: null, sampled: false }).spanContext() },
      denied,
    );
    expect(denied.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    const accepted: Record<string, string> = {};
    w3cTraceContext.inject(
      { spanContext: tracer.startSpan('a', { parent: null, sampled: true }).spanContext() },
      accepted,
    );
    expect(accepted).toEqual({});
    expect(tracer.startSpan('c', { parent: REMOTE_SAMPLED, sampled: false }).spanContext()).toBe(
      REMOTE_SAMPLED,
    );
  });

  it("offers a caller's decision sent without ids to parentBased's remote-parent samplers, and nobody else", () => {
    const asked: string[] = [];
    const spy = (name: string, answer: boolean): Sampler => ({
      shouldSample: (_traceId, parent) => {
        asked.push(`${name}${parent === undefined ? '' : ' with a parent'}`);
        return answer;
      },
      toString: () => name,
    });
    const followsCaller = new Tracer({
      sampler: parentBased({
        root: spy('root', false),
        remoteParentSampled: spy('remoteParentSampled', true),
        remoteParentNotSampled: spy('remoteParentNotSampled', false),
      }),
    });
    expect(followsCaller.startSpan('a', { parent: null, callerDecision: true }).isRecording()).toBe(true);
    expect(followsCaller.startSpan('b', { parent: null, callerDecision: false }).isRecording()).toBe(false);
    expect(followsCaller.startSpan('c', { parent: null }).isRecording()).toBe(false);
    // With ids, the decision sent alongside plays no part: the parent's flag does.
    expect(
      followsCaller.startSpan('d', { parent: REMOTE_SAMPLED, callerDecision: false }).isRecording(),
    ).toBe(true);
    expect(asked).toEqual([
      'remoteParentSampled',
      'remoteParentNotSampled',
      'root',
      'remoteParentSampled with a parent',
    ]);

    const off = new Tracer({ sampler: alwaysOff });
    expect(
      off.startSpan('e', { parent: null, callerDecision: true, debug: true }).spanContext(),
    ).toMatchObject({
      traceFlags: TraceFlags.NONE,
      debug: undefined,
    });
    expect(
      new Tracer({ sampler: alwaysOn }).startSpan('f', { parent: null, callerDecision: false }).isRecording(),
    ).toBe(true);
    // A custom sampler, such as one handing on to parentBased after its own rules, cannot pass the decision on:
    // it is not asked, and the decision is taken as sent.
    const inner = parentBased({ root: alwaysOn });
    const custom: Sampler = {
      shouldSample: (...args) => inner.shouldSample(...args),
      toString: () => 'Custom',
    };
    const wrapping = new Tracer({ sampler: custom });
    expect(wrapping.startSpan('h', { parent: null, callerDecision: false }).isRecording()).toBe(false);
    expect(wrapping.startSpan('i', { parent: null, callerDecision: true }).isRecording()).toBe(true);
    expect(wrapping.startSpan('j', { parent: null }).isRecording()).toBe(true);

    const disabled = new Tracer({ disabled: true, sampler: alwaysOn });
    const denied: Record<string, string> = {};
    w3cTraceContext.inject(
      { spanContext: disabled.startSpan('g', { parent: null, callerDecision: false }).spanContext() },
      denied,
    );
    expect(denied.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  });

  it('warns once per sampler, and counts, when it answers with anything but a boolean or throws', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      // The shape of an OpenTelemetry sampler's answer: { decision: SamplingDecision.RECORD_AND_SAMPLED }.
      const otelShaped: Sampler = {
        shouldSample: () => ({ decision: 2 }) as never,
        toString: () => 'OtelLike',
      };
      const tracer = new Tracer({ sampler: otelShaped });
      expect(tracer.startSpan('a', { parent: null }).isRecording()).toBe(false);
      expect(tracer.startSpan('b', { parent: null }).isRecording()).toBe(false);
      expect(tracer.stats.instrumentationErrors).toBe(2);
      const throwing: Sampler = {
        shouldSample: () => {
          throw new Error('boom');
        },
        toString: () => 'Throwing',
      };
      const other = new Tracer({ sampler: throwing });
      expect(other.startSpan('c', { parent: null }).isRecording()).toBe(false);
      expect(other.stats.instrumentationErrors).toBe(1);
      await new Promise(setImmediate);
    } finally {
      process.off('warning', onWarning);
    }
    // An earlier test's throwing sampler may warn inside this window too (warnings are emitted on the next tick).
    const ours = warnings.filter(
      (w) => (w as { code?: string }).code === 'TRACEWIRE_SAMPLER' && /OtelLike|Throwing/.test(w.message),
    );
    expect(ours.map((w) => w.message)).toEqual([
      expect.stringContaining('sampler OtelLike: shouldSample returned a SamplingResult'),
      expect.stringContaining('sampler Throwing: shouldSample threw (boom)'),
    ]);
  });

  it('detects the resource when none is given', () => {
    expect(new Tracer().resource.attributes).toMatchObject({
      'telemetry.sdk.name': 'tracewire',
      'process.pid': process.pid,
    });
  });

  it('exposes the propagator and resource it was given', () => {
    const propagator = { name: 'p', fields: [], inject() {}, extract: () => ({}) } as Propagator;
    const tracer = new Tracer({ propagator, resource: { attributes: { 'service.name': 'svc' } } });
    expect(tracer.propagator).toBe(propagator);
    expect(tracer.resource.attributes['service.name']).toBe('svc');
    const span = tracer.startSpan('s', { parent: null }) as RecordingSpan;
    expect(span.resource).toBe(tracer.resource);
  });

  it('reports a span under the scope it was started with, the same object for every span of that scope', () => {
    const tracer = new Tracer();
    const own = tracer.startSpan('own') as RecordingSpan;
    const a = tracer.startSpan('a', { scope: { name: 'orders-lib', version: '2.1.0' } }) as RecordingSpan;
    const b = tracer.startSpan('b', { scope: { name: 'orders-lib', version: '2.1.0' } }) as RecordingSpan;
    const unversioned = tracer.startSpan('c', { scope: { name: 'orders-lib' } }) as RecordingSpan;
    expect(own.scope.name).toBe('@tracewire/node');
    expect(a.scope).toEqual({ name: 'orders-lib', version: '2.1.0' });
    expect(b.scope).toBe(a.scope);
    expect(unversioned.scope).toEqual({ name: 'orders-lib' });
    expect(a.resource).toBe(own.resource);
  });
});

describe('Tracer.startActiveSpan', () => {
  it('runs the callback with the span active and returns its result', async () => {
    const tracer = new Tracer();
    const result = await tracer.startActiveSpan('outer', async (span) => {
      expect(getActiveSpan()).toBe(span);
      await new Promise((resolve) => setTimeout(resolve, 1));
      const child = tracer.startSpan('child') as RecordingSpan;
      expect(child.parentSpanId).toBe(span.spanContext().spanId);
      span.end();
      return 42;
    });
    expect(result).toBe(42);
    expect(getActiveSpan()).toBeUndefined();
  });

  it('accepts options before the callback', () => {
    const tracer = new Tracer();
    const span = tracer.startActiveSpan(
      'root',
      { parent: REMOTE_SAMPLED, kind: 1 },
      (s) => s,
    ) as RecordingSpan;
    expect(span.parentSpanId).toBe(REMOTE_SAMPLED.spanId);
    expect(span.kind).toBe(1);
  });

  it('throws a TypeError when no callback is given', () => {
    const tracer = new Tracer();
    expect(() => tracer.startActiveSpan('x', {} as never)).toThrow(TypeError);
  });
});

describe('Tracer.forceFlush and shutdown', () => {
  it('flushes every processor', async () => {
    const a = new SpanCollector();
    const b = new SpanCollector();
    const tracer = new Tracer({ processors: [a, b] });
    await tracer.forceFlush();
    expect([a.flushes, b.flushes]).toEqual([1, 1]);
  });

  it('shuts down once, runs onShutdown once, and stops recording afterwards', async () => {
    const collector = new SpanCollector();
    let cleanups = 0;
    const tracer = new Tracer({ processors: [collector], onShutdown: () => cleanups++ });
    const first = tracer.shutdown();
    const second = tracer.shutdown();
    expect(second).toBe(first);
    await first;
    expect(collector.shutdowns).toBe(1);
    expect(cleanups).toBe(1);
    expect(tracer.isShutdown).toBe(true);
    expect(tracer.startSpan('late').isRecording()).toBe(false);
  });

  it('ends the SERVER and CLIENT spans still open as shutdown errors, and only those', async () => {
    const collector = new SpanCollector();
    const tracer = new Tracer({ processors: [collector] });
    const servers = ['a', 'b', 'c', 'd'].map((name) => tracer.startSpan(name, { kind: SpanKind.SERVER }));
    const client = tracer.startSpan('out', { kind: SpanKind.CLIENT });
    const internal = tracer.startSpan('work');
    // Ended from the middle, the head and the tail of the open list.
    servers[1]!.end();
    client.end();
    servers[0]!.end();
    await tracer.shutdown();
    const ended = collector.spans.map((span) => [span.name, span.attributes['error.type']]);
    expect(ended).toEqual([
      ['b', undefined],
      ['out', undefined],
      ['a', undefined],
      ['c', 'shutdown'],
      ['d', 'shutdown'],
    ]);
    expect(internal.isRecording()).toBe(true);
  });

  it('never rejects when a processor fails', async () => {
    const tracer = new Tracer({
      processors: [
        {
          onEnd() {},
          forceFlush: () => Promise.reject(new Error('x')),
          shutdown: () => Promise.reject(new Error('y')),
        },
      ],
    });
    await expect(tracer.forceFlush()).resolves.toBeUndefined();
    await expect(tracer.shutdown()).resolves.toBeUndefined();
    expect(tracer.stats.instrumentationErrors).toBe(2);
  });
});

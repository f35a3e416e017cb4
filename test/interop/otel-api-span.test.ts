import * as api from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor as SdkSimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import {
  configure,
  InMemoryExporter,
  type ReadableSpan,
  registerOpenTelemetryApi,
  SimpleSpanProcessor,
  SpanKind,
  withSpan,
} from '@tracewire/node';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { toOtlpJson } from '../../packages/node/src/exporters/otlp-json.js';

// The API's Span and Tracer as libraries use them, held against what OpenTelemetry's own SDK does with the same
// calls: code that traced through the SDK must record the same things once tracewire is behind the API.

const exporter = new InMemoryExporter();
const tracer = configure({
  serviceName: 'otel-api-span',
  processors: [new SimpleSpanProcessor(exporter)],
  shutdownOnSignals: false,
  instrumentOutgoing: false,
});
const registration = registerOpenTelemetryApi(api);
const library = api.trace.getTracer('span-lib', '1.0.0');

// The SDK's tracer, used directly (not registered): the reference for what each call records.
const sdkExporter = new InMemorySpanExporter();
const sdk = new BasicTracerProvider({
  spanProcessors: [new SdkSimpleSpanProcessor(sdkExporter)],
}).getTracer('reference');

afterAll(async () => {
  registration.unregister();
  await tracer.shutdown();
});
beforeEach(() => {
  exporter.reset();
  sdkExporter.reset();
});

const only = (): ReadableSpan => {
  const spans = exporter.getFinishedSpans();
  expect(spans).toHaveLength(1);
  return spans[0]!;
};

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('the API Span', () => {
  it("records exceptions as OpenTelemetry's SDK does: a code is the type, and nothing is recorded without type or message", () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const exceptions: api.Exception[] = [
      'plain text',
      new TypeError('bad input'),
      reset,
      { code: 503, message: 'unavailable' },
      { name: 'TimeoutError' },
      {} as api.Exception,
      undefined as unknown as api.Exception,
    ];
    for (const t of [library, sdk]) {
      const span = t.startSpan('failing');
      for (const exception of exceptions) span.recordException(exception);
      span.end();
    }
    const ours = only().events.map((e) => ({ name: e.name, attributes: { ...e.attributes } }));
    const theirs = sdkExporter
      .getFinishedSpans()[0]!
      .events.map((e) => ({ name: e.name, attributes: { ...e.attributes } }));
    expect(ours).toEqual(theirs);
    expect(ours.map((e) => e.attributes['exception.type'])).toEqual([
      undefined,
      'TypeError',
      'ECONNRESET',
      '503',
      'TimeoutError',
    ]);
  });

  it("places performance.now() readings on the span's own clock, also after the wall clock jumped", async () => {
    const realNow = Date.now.bind(Date);
    // A machine that slept for an hour: the wall clock moved on, the monotonic clock did not.
    const jumped = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000);
    try {
      // Past the tracer's once-a-second look at the wall clock.
      await new Promise((resolve) => setTimeout(resolve, 1050));
      const span = library.startSpan('timed', { startTime: performance.now() });
      await new Promise((resolve) => setTimeout(resolve, 10));
      span.addEvent('midway', performance.now());
      await new Promise((resolve) => setTimeout(resolve, 10));
      span.end(performance.now());
      const recorded = only();
      expect(Math.abs(recorded.startTime - Date.now())).toBeLessThan(1000);
      expect(recorded.endTime - recorded.startTime).toBeGreaterThanOrEqual(15);
      expect(recorded.events[0]!.time).toBeGreaterThan(recorded.startTime);
      expect(recorded.events[0]!.time).toBeLessThan(recorded.endTime);
    } finally {
      jumped.mockRestore();
    }
  });

  it("places a performance.now() start under an active parent on that parent's clock, after the wall clock jumped", async () => {
    const realNow = Date.now.bind(Date);
    const parent = tracer.startSpan('parent', { parent: null });
    const jumped = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 7_200_000);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1050));
      const [child, unended] = withSpan(parent, () => [
        library.startSpan('child', { startTime: performance.now() }),
        library.startSpan('ended by end()', { startTime: performance.now() }),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 10));
      child!.end(performance.now());
      unended!.end();
      parent.end();
      const [recordedChild, recordedUnended, recordedParent] = exporter.getFinishedSpans();
      for (const recorded of [recordedChild!, recordedUnended!]) {
        expect(recorded.endTime - recorded.startTime).toBeGreaterThanOrEqual(8);
        expect(recorded.endTime - recorded.startTime).toBeLessThan(1000);
        expect(recorded.startTime).toBeGreaterThanOrEqual(recordedParent!.startTime);
        expect(recorded.endTime).toBeLessThanOrEqual(recordedParent!.endTime);
      }
    } finally {
      jumped.mockRestore();
    }
  });

  it('takes the third argument of addEvent as the time when the second is a time too, as the SDK does', () => {
    const span = library.startSpan('timed');
    span.addEvent('retry', 1_700_000_000_000, new Date(1_700_000_000_500));
    span.end();
    expect(only().events.map((e) => e.time)).toEqual([1_700_000_000_500]);
  });

  it('returns itself from every method but end and recordException, and stops recording once ended', () => {
    const span = library.startSpan('chained');
    const link = { context: { traceId: TRACE, spanId: PARENT, traceFlags: 1 } };
    expect(span.setAttribute('a', 1)).toBe(span);
    expect(span.setAttributes({ b: 2 })).toBe(span);
    expect(span.addEvent('e')).toBe(span);
    expect(span.addLink(link)).toBe(span);
    expect(span.addLinks([link])).toBe(span);
    expect(span.setStatus({ code: api.SpanStatusCode.OK })).toBe(span);
    expect(span.updateName('renamed')).toBe(span);
    expect(span.isRecording()).toBe(true);
    span.end([1_900_000_000, 500_000]);
    expect(span.isRecording()).toBe(false);
    span.setAttribute('after', true).end();
    const ended = only();
    expect(ended.name).toBe('renamed');
    expect(ended.attributes).toEqual({ a: 1, b: 2 });
    expect(ended.links).toHaveLength(2);
    expect(ended.endTime).toBeCloseTo(1_900_000_000_000.5, 3);
  });

  it('leaves out links whose ids no receiver could read or whose trace state throws, and never throws', () => {
    const errorsBefore = tracer.stats.instrumentationErrors;
    const throwingState = {
      traceId: TRACE,
      spanId: PARENT,
      traceFlags: 1,
      traceState: {
        serialize(): string {
          throw new Error('broken trace state');
        },
      },
    } as unknown as api.SpanContext;
    const span = library.startSpan('linked', {
      links: [
        { context: { traceId: 5, spanId: null } as unknown as api.SpanContext },
        { context: { traceId: TRACE, spanId: PARENT, traceFlags: 1 }, attributes: { kept: true } },
      ],
    });
    expect(() => span.addLink({ context: throwingState })).not.toThrow();
    span.addLink({ context: {} as api.SpanContext });
    // OpenTelemetry spec, "Link": a link with an invalid span context is still recorded when it has attributes.
    span.addLink({ context: api.INVALID_SPAN_CONTEXT, attributes: { reason: 'no parent' } });
    span.addLink({ context: api.INVALID_SPAN_CONTEXT });
    span.end();
    const linked = only();
    expect(linked.links.map((l) => [l.context.spanId, l.attributes])).toEqual([
      [PARENT, { kept: true }],
      ['0000000000000000', { reason: 'no parent' }],
    ]);
    // The trace state that threw is the one error counted; every link's ids are strings an OTLP receiver parses.
    const encoded = toOtlpJson([linked]).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    for (const link of encoded.links) expect(typeof link.traceId).toBe('string');
    expect(tracer.stats.instrumentationErrors - errorsBefore).toBe(1);
  });
});

describe('the API Tracer', () => {
  it("keeps the API's SpanKind numbers, and records a kind the API has not as INTERNAL", () => {
    for (const kind of [api.SpanKind.SERVER, api.SpanKind.PRODUCER, 9 as api.SpanKind]) {
      library.startSpan(`kind ${kind}`, { kind }).end();
    }
    expect(exporter.getFinishedSpans().map((s) => s.kind)).toEqual([
      SpanKind.SERVER,
      SpanKind.PRODUCER,
      SpanKind.INTERNAL,
    ]);
  });

  it('accepts startActiveSpan(name, options, undefined, fn) and runs fn with the span active on the active context', () => {
    const key = api.createContextKey('request');
    const seen = api.context.with(api.ROOT_CONTEXT.setValue(key, 'r1'), () =>
      // JavaScript callers pass `undefined` for "the active context"; the API's types ask for a Context.
      library.startActiveSpan('four args', { kind: api.SpanKind.CLIENT }, undefined as never, (span) => {
        span.end();
        return [api.trace.getActiveSpan() === span, api.context.active().getValue(key)];
      }),
    );
    expect(seen).toEqual([true, 'r1']);
    expect(only().kind).toBe(SpanKind.CLIENT);
  });

  it('runs startActiveSpan given a context the API would not make, instead of throwing', () => {
    const errorsBefore = tracer.stats.instrumentationErrors;
    const result = library.startActiveSpan('odd context', {}, {} as api.Context, (span) => {
      const active = api.trace.getActiveSpan() === span;
      span.end();
      return active;
    });
    expect(result).toBe(true);
    expect(tracer.stats.instrumentationErrors).toBeGreaterThan(errorsBefore);
  });

  it('returns nothing from startActiveSpan called with a name alone, as the SDK and the no-op tracer do', () => {
    const nameOnly = library.startActiveSpan as unknown as (name: string) => unknown;
    expect(nameOnly.call(library, 'no callback')).toBeUndefined();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it('follows the parent: sampled=0 gives a non-recording child in the same trace, sampled=1 a recorded one', () => {
    const parent = (traceFlags: number) =>
      api.trace.setSpanContext(api.ROOT_CONTEXT, {
        traceId: TRACE,
        spanId: PARENT,
        traceFlags,
        isRemote: true,
      });
    const unsampled = library.startSpan('unsampled', {}, parent(api.TraceFlags.NONE));
    const sampled = library.startSpan('sampled', {}, parent(api.TraceFlags.SAMPLED));
    expect(unsampled.isRecording()).toBe(false);
    expect(unsampled.spanContext()).toMatchObject({ traceId: TRACE, traceFlags: api.TraceFlags.NONE });
    expect(unsampled.spanContext().spanId).not.toBe(PARENT);
    expect(api.trace.isSpanContextValid(unsampled.spanContext())).toBe(true);
    unsampled.end();
    sampled.end();
    expect(only()).toMatchObject({ name: 'sampled', parentSpanId: PARENT, parentIsRemote: true });
  });

  it('starts a new trace under an invalid or non-recording parent only when its context is invalid', () => {
    library
      .startSpan('under invalid', {}, api.trace.setSpanContext(api.ROOT_CONTEXT, api.INVALID_SPAN_CONTEXT))
      .end();
    const local = api.trace.wrapSpanContext({ traceId: TRACE, spanId: PARENT, traceFlags: 1 });
    library.startSpan('under non-recording', {}, api.trace.setSpan(api.ROOT_CONTEXT, local)).end();
    const [invalid, nonRecording] = exporter.getFinishedSpans();
    expect(invalid?.parentSpanId).toBeUndefined();
    expect(invalid?.spanContext().traceId).not.toBe(api.INVALID_SPAN_CONTEXT.traceId);
    expect(nonRecording).toMatchObject({ parentSpanId: PARENT, parentIsRemote: false });
    expect(nonRecording?.spanContext().traceId).toBe(TRACE);
  });
});

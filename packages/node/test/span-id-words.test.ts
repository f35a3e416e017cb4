import { b3, type SpanContext, TraceFlags, w3cTraceContext } from '@tracewire/core';
import { describe, expect, it } from 'vitest';
import { withSpan } from '../src/context.js';
import { encodeOtlpProto } from '../src/exporters/otlp-proto.js';
import type { RecordingSpan } from '../src/recording-span.js';
import { SpanKind } from '../src/span-data.js';
import { Tracer } from '../src/tracer.js';
import { decodeToObject, loadOtlpTypes } from './fixtures/otlp-proto-root.js';
import { SpanCollector } from './span-collector.js';

const types = loadOtlpTypes();

interface DecodedIds {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

function exported(spans: readonly RecordingSpan[]): DecodedIds[] {
  const decoded = decodeToObject(types.request, encodeOtlpProto(spans)) as unknown as {
    resourceSpans: { scopeSpans: { spans: DecodedIds[] }[] }[];
  };
  return decoded.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) =>
      ss.spans.map(({ name, traceId, spanId, parentSpanId }) => ({ name, traceId, spanId, parentSpanId })),
    ),
  );
}

/** What each span says its ids are, as the decoder spells an absent parent. */
function reported(span: RecordingSpan): DecodedIds {
  const context = span.spanContext();
  return {
    name: span.name,
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanId ?? '',
  };
}

function tracerWithCollector(): { tracer: Tracer; collector: SpanCollector } {
  const collector = new SpanCollector();
  const tracer = new Tracer();
  tracer.addSpanProcessor(collector);
  return { tracer, collector };
}

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('ids in OTLP protobuf, from the words spans keep or from their hex', () => {
  it('exports the ids every span reports: new traces, children, a traceparent parent, a B3 parent', () => {
    const { tracer, collector } = tracerWithCollector();
    const fromTraceparent = w3cTraceContext.extract({ traceparent: TRACEPARENT }).spanContext!;
    const fromB3 = b3().extract({ b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' }).spanContext!;
    for (let i = 0; i < 3; i++) {
      const root = tracer.startSpan(`root ${i}`, { parent: null });
      withSpan(root, () => {
        const child = tracer.startSpan(`child ${i}`);
        withSpan(child, () => tracer.startSpan(`grandchild ${i}`).end());
        child.end();
      });
      root.end();
      const server = tracer.startSpan(`server ${i}`, { parent: fromTraceparent, kind: SpanKind.SERVER });
      withSpan(server, () => tracer.startSpan(`client ${i}`, { kind: SpanKind.CLIENT }).end());
      server.end();
      tracer.startSpan(`b3 server ${i}`, { parent: fromB3, kind: SpanKind.SERVER }).end();
    }
    const spans = collector.spans as RecordingSpan[];
    expect(spans).toHaveLength(18);
    expect(exported(spans)).toEqual(spans.map(reported));
    const server = spans.find((span) => span.name === 'server 0')!;
    expect(reported(server)).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      parentSpanId: 'b7ad6b7169203331',
    });
  });

  it('exports the ids a context read from a traceparent was given afterwards, not those it was read with', () => {
    const { tracer, collector } = tracerWithCollector();
    const context = w3cTraceContext.extract({ traceparent: TRACEPARENT }).spanContext as {
      -readonly [K in keyof SpanContext]: SpanContext[K];
    };
    context.traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    context.spanId = '00f067aa0ba902b7';
    tracer.startSpan('server', { parent: context, kind: SpanKind.SERVER }).end();
    const [span] = exported(collector.spans as RecordingSpan[]);
    expect(span).toMatchObject({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      parentSpanId: '00f067aa0ba902b7',
    });
  });

  it('reads a traceparent context as the plain record any other context is', () => {
    const context = w3cTraceContext.extract({ traceparent: TRACEPARENT }).spanContext;
    expect(context).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    expect(Object.keys(context!)).toEqual(['traceId', 'spanId', 'traceFlags', 'traceState', 'isRemote']);
    expect(JSON.parse(JSON.stringify(context))).toEqual({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
    });
  });
});

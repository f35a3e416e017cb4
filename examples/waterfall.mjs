// Draws spans received over OTLP with the same waterfall tracewire's console exporter prints.
import { renderWaterfall } from '@tracewire/node';

const NANOS_PER_MS = 1_000_000n;

/** Adapts a span from otlp-receiver.mjs to what renderWaterfall reads. */
function asReadableSpan(span) {
  const toMs = (nanos) => Number(nanos / NANOS_PER_MS) + Number(nanos % NANOS_PER_MS) / 1e6;
  return {
    name: span.name,
    kind: span.kind - 1, // OTLP numbers kinds from 1
    spanContext: () => ({ traceId: span.traceId, spanId: span.spanId, traceFlags: 1 }),
    parentSpanId: span.parentSpanId,
    startTime: toMs(span.startTimeUnixNano),
    endTime: toMs(span.endTimeUnixNano),
    attributes: span.attributes,
    events: [],
    links: [],
    status: { code: span.statusCode },
    resource: { attributes: { 'service.name': span.service } },
    scope: { name: 'otlp' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** One waterfall per trace, oldest trace first. */
export function renderTraces(spans) {
  const traces = new Map();
  for (const span of [...spans].sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1))) {
    if (!traces.has(span.traceId)) traces.set(span.traceId, []);
    traces.get(span.traceId).push(asReadableSpan(span));
  }
  return [...traces.values()].map((trace) => renderWaterfall(trace)).join('');
}

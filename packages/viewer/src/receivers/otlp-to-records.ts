import { type DecodedSpans, SPAN_KINDS, type SpanRecord } from '../span-record.js';
import { isValidHexId } from './hex-ids.js';
import type { OtlpRequest, OtlpSpan } from './otlp-model.js';

/**
 * Turns a decoded request into span records. A span with an invalid trace or span id cannot be placed in any trace,
 * so it is rejected and counted for `partial_success` (OTLP spec, "Partial Success"); the others are kept.
 */
export function otlpToRecords(request: OtlpRequest): DecodedSpans {
  const spans: SpanRecord[] = [];
  let rejected = 0;
  for (const rs of request.resourceSpans) {
    const serviceName = rs.resource['service.name'];
    const service = typeof serviceName === 'string' && serviceName !== '' ? serviceName : 'unknown_service';
    for (const ss of rs.scopeSpans) {
      for (const span of ss.spans) {
        if (!isValidHexId(span.traceId, 32) || !isValidHexId(span.spanId, 16)) {
          rejected++;
          continue;
        }
        spans.push(toRecord(span, service, rs.resource, ss.scope));
      }
    }
  }
  return rejected === 0
    ? { spans, rejected }
    : { spans, rejected, rejectReason: `${rejected} span(s) had an invalid traceId or spanId` };
}

function toRecord(
  span: OtlpSpan,
  service: string,
  resource: SpanRecord['resource'],
  scope: SpanRecord['scope'],
): SpanRecord {
  const startUs = nanosToMicros(span.startTimeUnixNano);
  const endUs = nanosToMicros(span.endTimeUnixNano);
  const code = span.status.code;
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    parentSpanId: isValidHexId(span.parentSpanId, 16) ? span.parentSpanId : undefined,
    service,
    name: span.name,
    kind: SPAN_KINDS[span.kind] ?? 'unspecified',
    startUs,
    durationUs: Math.max(0, endUs - startUs),
    statusCode: code === 1 || code === 2 ? code : 0,
    statusMessage: span.status.message || undefined,
    traceState: span.traceState || undefined,
    attributes: span.attributes,
    resource,
    scope,
    events: span.events.map((e) => ({
      timeUs: nanosToMicros(e.timeUnixNano),
      name: e.name,
      attributes: e.attributes,
    })),
    links: span.links
      .filter((l) => isValidHexId(l.traceId, 32) && isValidHexId(l.spanId, 16))
      .map((l) => ({
        traceId: l.traceId,
        spanId: l.spanId,
        traceState: l.traceState || undefined,
        attributes: l.attributes,
      })),
  };
}

function nanosToMicros(nanos: bigint): number {
  return Number(nanos / 1000n);
}

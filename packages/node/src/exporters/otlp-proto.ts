import type { Attributes, AttributeValue, ReadableSpan, SpanEvent, SpanLink } from '../span-data.js';
import { groupByResourceAndScope, isInt64, linkFlags, spanFlags } from './otlp-grouping.js';
import { ProtoWriter } from './proto-writer.js';
import { toUnixNano } from './unix-nano.js';

// Field numbers from opentelemetry-proto: collector/trace/v1/trace_service.proto, trace/v1/trace.proto,
// resource/v1/resource.proto and common/v1/common.proto.

/** An `ExportTraceServiceRequest` in protobuf binary encoding (OTLP/HTTP `application/x-protobuf`). */
export function encodeOtlpProto(spans: readonly ReadableSpan[]): Uint8Array {
  const w = new ProtoWriter();
  for (const group of groupByResourceAndScope(spans)) {
    w.message(1, (rs) => {
      rs.message(1, (resource) => writeAttributes(resource, 1, group.resource.attributes));
      for (const scopeGroup of group.scopes) {
        rs.message(2, (ss) => {
          ss.message(1, (scope) => {
            scope.string(1, scopeGroup.scope.name);
            scope.string(2, scopeGroup.scope.version);
          });
          for (const span of scopeGroup.spans) ss.message(2, (s) => writeSpan(s, span));
        });
      }
    });
  }
  return w.finish();
}

function writeSpan(w: ProtoWriter, span: ReadableSpan): void {
  const context = span.spanContext();
  w.hexBytes(1, context.traceId);
  w.hexBytes(2, context.spanId);
  w.string(3, context.traceState?.serialize());
  w.hexBytes(4, span.parentSpanId);
  w.string(5, span.name);
  // trace.proto SpanKind reserves 0 for UNSPECIFIED, so the API's INTERNAL=0 is 1 on the wire.
  w.uint32(6, span.kind + 1);
  w.fixed64(7, toUnixNano(span.startTime));
  w.fixed64(8, toUnixNano(span.endTime));
  writeAttributes(w, 9, span.attributes);
  w.uint32(10, span.droppedAttributesCount);
  for (const event of span.events) w.message(11, (e) => writeEvent(e, event));
  w.uint32(12, span.droppedEventsCount);
  for (const link of span.links) w.message(13, (l) => writeLink(l, link));
  w.uint32(14, span.droppedLinksCount);
  w.message(15, (status) => {
    status.string(2, span.status.message);
    status.uint32(3, span.status.code);
  });
  w.fixed32(16, spanFlags(context.traceFlags, span.parentSpanId !== undefined, span.parentIsRemote));
}

function writeEvent(w: ProtoWriter, event: SpanEvent): void {
  w.fixed64(1, toUnixNano(event.time));
  w.string(2, event.name);
  if (event.attributes) writeAttributes(w, 3, event.attributes);
  w.uint32(4, event.droppedAttributesCount ?? 0);
}

function writeLink(w: ProtoWriter, link: SpanLink): void {
  w.hexBytes(1, link.context.traceId);
  w.hexBytes(2, link.context.spanId);
  w.string(3, link.context.traceState?.serialize());
  if (link.attributes) writeAttributes(w, 4, link.attributes);
  w.fixed32(6, linkFlags(link.context.traceFlags, link.context.isRemote));
}

function writeAttributes(w: ProtoWriter, field: number, attributes: Attributes): void {
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    w.message(field, (kv) => {
      kv.string(1, key);
      kv.message(2, (any) => writeAnyValue(any, value));
    });
  }
}

// common.proto AnyValue oneof: string 1, bool 2, int64 3, double 4, ArrayValue 5.
function writeAnyValue(w: ProtoWriter, value: AttributeValue | string | number | boolean): void {
  if (typeof value === 'string') w.string(1, value, true);
  else if (typeof value === 'boolean') w.bool(2, value);
  else if (typeof value === 'number') {
    if (isInt64(value)) w.int64(3, value);
    else w.double(4, value);
  } else {
    w.message(5, (array) => {
      for (const item of value) {
        array.message(1, (any) => {
          if (item !== null && item !== undefined) writeAnyValue(any, item);
        });
      }
    });
  }
}

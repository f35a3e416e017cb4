import type { Attributes, AttributeValue, ReadableSpan, SpanEvent, SpanLink } from '../span-data.js';
import { groupByResourceAndScope, isInt64, linkFlags, spanFlags } from './otlp-grouping.js';
import { toUnixNano } from './unix-nano.js';

/**
 * OTLP/JSON (OTLP spec "JSON Protobuf Encoding"): proto3 JSON mapping with lowerCamelCase field names, trace and span
 * ids as hex strings (not base64), enums as integers, and 64-bit integers (times, intValue) as decimal strings.
 */
export interface OtlpJsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number | string;
  arrayValue?: { values: OtlpJsonAnyValue[] };
}

export interface OtlpJsonKeyValue {
  key: string;
  value: OtlpJsonAnyValue;
}

export interface OtlpJsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpJsonKeyValue[];
  droppedAttributesCount: number;
  events: {
    timeUnixNano: string;
    name: string;
    attributes: OtlpJsonKeyValue[];
    droppedAttributesCount: number;
  }[];
  droppedEventsCount: number;
  status: { code: number; message?: string };
  links: {
    traceId: string;
    spanId: string;
    traceState?: string;
    attributes: OtlpJsonKeyValue[];
    droppedAttributesCount: number;
    flags: number;
  }[];
  droppedLinksCount: number;
  flags: number;
}

export interface OtlpJsonTraceRequest {
  resourceSpans: {
    resource: { attributes: OtlpJsonKeyValue[]; droppedAttributesCount: number };
    scopeSpans: { scope: { name: string; version?: string }; spans: OtlpJsonSpan[] }[];
  }[];
}

/** An `ExportTraceServiceRequest` as OTLP/JSON; `JSON.stringify` it for the wire. */
export function toOtlpJson(spans: readonly ReadableSpan[]): OtlpJsonTraceRequest {
  return {
    resourceSpans: groupByResourceAndScope(spans).map((group) => ({
      resource: { attributes: toKeyValues(group.resource.attributes), droppedAttributesCount: 0 },
      scopeSpans: group.scopes.map((scopeGroup) => ({
        scope: withOptional({ name: scopeGroup.scope.name }, 'version', scopeGroup.scope.version),
        spans: scopeGroup.spans.map(toOtlpJsonSpan),
      })),
    })),
  };
}

function toOtlpJsonSpan(span: ReadableSpan): OtlpJsonSpan {
  const context = span.spanContext();
  const out: OtlpJsonSpan = {
    traceId: context.traceId,
    spanId: context.spanId,
    name: span.name,
    // trace.proto SpanKind reserves 0 for UNSPECIFIED, so the API's INTERNAL=0 is 1 on the wire.
    kind: span.kind + 1,
    startTimeUnixNano: toUnixNano(span.startTime).toString(),
    endTimeUnixNano: toUnixNano(span.endTime).toString(),
    attributes: toKeyValues(span.attributes),
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map(toEvent),
    droppedEventsCount: span.droppedEventsCount,
    status: withOptional({ code: span.status.code }, 'message', span.status.message),
    links: span.links.map(toLink),
    droppedLinksCount: span.droppedLinksCount,
    flags: spanFlags(context.traceFlags, span.parentSpanId !== undefined, span.parentIsRemote),
  };
  if (span.parentSpanId !== undefined) out.parentSpanId = span.parentSpanId;
  const traceState = context.traceState?.serialize();
  if (traceState) out.traceState = traceState;
  return out;
}

function toEvent(event: SpanEvent): OtlpJsonSpan['events'][number] {
  return {
    timeUnixNano: toUnixNano(event.time).toString(),
    name: event.name,
    attributes: event.attributes ? toKeyValues(event.attributes) : [],
    droppedAttributesCount: event.droppedAttributesCount ?? 0,
  };
}

function toLink(link: SpanLink): OtlpJsonSpan['links'][number] {
  const out: OtlpJsonSpan['links'][number] = {
    traceId: link.context.traceId,
    spanId: link.context.spanId,
    attributes: link.attributes ? toKeyValues(link.attributes) : [],
    droppedAttributesCount: link.droppedAttributesCount ?? 0,
    flags: linkFlags(link.context.traceFlags, link.context.isRemote),
  };
  const traceState = link.context.traceState?.serialize();
  if (traceState) out.traceState = traceState;
  return out;
}

function toKeyValues(attributes: Attributes): OtlpJsonKeyValue[] {
  const out: OtlpJsonKeyValue[] = [];
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    if (value !== undefined && value !== null) out.push({ key, value: toAnyValue(value) });
  }
  return out;
}

function toAnyValue(value: AttributeValue | string | number | boolean): OtlpJsonAnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') {
    if (isInt64(value)) return { intValue: BigInt(value).toString() };
    // proto3 JSON writes non-finite doubles as the strings "NaN", "Infinity", "-Infinity".
    return { doubleValue: Number.isFinite(value) ? value : String(value) };
  }
  const values: OtlpJsonAnyValue[] = [];
  for (const item of value) values.push(item === null || item === undefined ? {} : toAnyValue(item));
  return { arrayValue: { values } };
}

function withOptional<T extends object, K extends string>(
  target: T,
  key: K,
  value: string | undefined,
): T & Partial<Record<K, string>> {
  if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  return target;
}

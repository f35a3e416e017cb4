import type { AttributeMap } from '../span-record.js';

/**
 * An OTLP `ExportTraceServiceRequest` after decoding, the same whether it came as protobuf or JSON: ids as hex
 * (unvalidated), times as nanosecond bigints, attribute values already mapped to JSON values.
 */
export interface OtlpRequest {
  resourceSpans: OtlpResourceSpans[];
}

export interface OtlpResourceSpans {
  resource: AttributeMap;
  scopeSpans: OtlpScopeSpans[];
}

export interface OtlpScopeSpans {
  scope: { name: string; version?: string | undefined };
  spans: OtlpSpan[];
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: AttributeMap;
  events: { timeUnixNano: bigint; name: string; attributes: AttributeMap }[];
  links: { traceId: string; spanId: string; traceState: string; attributes: AttributeMap }[];
  status: { code: number; message: string };
}

export function emptySpan(): OtlpSpan {
  return {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    traceState: '',
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {},
    events: [],
    links: [],
    status: { code: 0, message: '' },
  };
}

/** int64 values that fit a double exactly stay numbers; larger ones become decimal strings rather than lose digits. */
export function int64ToValue(value: bigint): number | string {
  return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value.toString();
}

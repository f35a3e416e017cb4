import { type AttributeMap, type AttributeValue, setEntry } from '../span-record.js';
import { bytesToHex } from './hex-ids.js';
import {
  emptySpan,
  int64ToValue,
  type OtlpRequest,
  type OtlpResourceSpans,
  type OtlpScopeSpans,
  type OtlpSpan,
} from './otlp-model.js';

/** The body is JSON but not an `ExportTraceServiceRequest`; the whole request is refused (OTLP/HTTP 400). */
export class OtlpJsonError extends Error {
  override name = 'OtlpJsonError';
}

type Json = Record<string, unknown>;

/**
 * OTLP/JSON (OTLP spec "JSON Protobuf Encoding"): proto3 JSON with lowerCamelCase keys, ids as hex (we also take the
 * base64 that generic proto3 JSON writers produce), 64-bit integers as strings or numbers, enums as integers or names.
 * Missing fields take their proto3 defaults.
 */
export function decodeOtlpJson(text: string): OtlpRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new OtlpJsonError(`malformed JSON: ${(error as Error).message}`);
  }
  const root = object(parsed, 'request');
  return { resourceSpans: array(root['resourceSpans'], 'resourceSpans').map(resourceSpans) };
}

function resourceSpans(value: unknown, index: number): OtlpResourceSpans {
  const path = `resourceSpans[${index}]`;
  const rs = object(value, path);
  const resource = rs['resource'] === undefined ? {} : object(rs['resource'], `${path}.resource`);
  return {
    resource: keyValues(resource['attributes'], `${path}.resource.attributes`),
    scopeSpans: array(rs['scopeSpans'], `${path}.scopeSpans`).map((ss, i) =>
      scopeSpans(ss, `${path}.scopeSpans[${i}]`),
    ),
  };
}

function scopeSpans(value: unknown, path: string): OtlpScopeSpans {
  const ss = object(value, path);
  const scope = ss['scope'] === undefined ? {} : object(ss['scope'], `${path}.scope`);
  const version = optionalString(scope['version'], `${path}.scope.version`);
  return {
    scope: { name: optionalString(scope['name'], `${path}.scope.name`), ...(version ? { version } : {}) },
    spans: array(ss['spans'], `${path}.spans`).map((s, i) => span(s, `${path}.spans[${i}]`)),
  };
}

function span(value: unknown, path: string): OtlpSpan {
  const s = object(value, path);
  const out = emptySpan();
  out.traceId = id(s['traceId'], `${path}.traceId`);
  out.spanId = id(s['spanId'], `${path}.spanId`);
  out.parentSpanId = id(s['parentSpanId'], `${path}.parentSpanId`);
  out.traceState = optionalString(s['traceState'], `${path}.traceState`);
  out.name = optionalString(s['name'], `${path}.name`);
  out.kind = spanKind(s['kind'], `${path}.kind`);
  out.startTimeUnixNano = uint64(s['startTimeUnixNano'], `${path}.startTimeUnixNano`);
  out.endTimeUnixNano = uint64(s['endTimeUnixNano'], `${path}.endTimeUnixNano`);
  out.attributes = keyValues(s['attributes'], `${path}.attributes`);
  out.events = array(s['events'], `${path}.events`).map((e, i) => {
    const event = object(e, `${path}.events[${i}]`);
    return {
      timeUnixNano: uint64(event['timeUnixNano'], `${path}.events[${i}].timeUnixNano`),
      name: optionalString(event['name'], `${path}.events[${i}].name`),
      attributes: keyValues(event['attributes'], `${path}.events[${i}].attributes`),
    };
  });
  out.links = array(s['links'], `${path}.links`).map((l, i) => {
    const link = object(l, `${path}.links[${i}]`);
    return {
      traceId: id(link['traceId'], `${path}.links[${i}].traceId`),
      spanId: id(link['spanId'], `${path}.links[${i}].spanId`),
      traceState: optionalString(link['traceState'], `${path}.links[${i}].traceState`),
      attributes: keyValues(link['attributes'], `${path}.links[${i}].attributes`),
    };
  });
  if (s['status'] !== undefined && s['status'] !== null) {
    const status = object(s['status'], `${path}.status`);
    out.status = {
      code: statusCode(status['code'], `${path}.status.code`),
      message: optionalString(status['message'], `${path}.status.message`),
    };
  }
  return out;
}

function keyValues(value: unknown, path: string): AttributeMap {
  const out: AttributeMap = {};
  for (const [i, item] of array(value, path).entries()) {
    const kv = object(item, `${path}[${i}]`);
    setEntry(
      out,
      optionalString(kv['key'], `${path}[${i}].key`),
      anyValue(kv['value'], `${path}[${i}].value`),
    );
  }
  return out;
}

function anyValue(value: unknown, path: string): AttributeValue {
  if (value === undefined || value === null) return null;
  const v = object(value, path);
  if ('stringValue' in v) return optionalString(v['stringValue'], `${path}.stringValue`);
  if ('boolValue' in v) {
    if (typeof v['boolValue'] !== 'boolean') throw new OtlpJsonError(`${path}.boolValue must be a boolean`);
    return v['boolValue'];
  }
  if ('intValue' in v) return int64ToValue(int64(v['intValue'], `${path}.intValue`));
  if ('doubleValue' in v) return double(v['doubleValue'], `${path}.doubleValue`);
  if ('arrayValue' in v) {
    const values = object(v['arrayValue'] ?? {}, `${path}.arrayValue`)['values'];
    return array(values, `${path}.arrayValue.values`).map((item, i) =>
      anyValue(item, `${path}.arrayValue.values[${i}]`),
    );
  }
  if ('kvlistValue' in v) {
    return keyValues(object(v['kvlistValue'] ?? {}, `${path}.kvlistValue`)['values'], `${path}.kvlistValue`);
  }
  if ('bytesValue' in v) return optionalString(v['bytesValue'], `${path}.bytesValue`);
  return null;
}

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OtlpJsonError(`${path} must be an object`);
  }
  return value as Json;
}

function array(value: unknown, path: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpJsonError(`${path} must be an array`);
  return value;
}

function optionalString(value: unknown, path: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new OtlpJsonError(`${path} must be a string`);
  return value;
}

/** Hex as the OTLP spec asks; 24/12-character base64 (16/8 bytes) from generic proto3 JSON writers is converted. */
function id(value: unknown, path: string): string {
  const text = optionalString(value, path);
  if ((text.length === 24 || text.length === 12) && /^[A-Za-z0-9+/]+=*$/.test(text)) {
    return bytesToHex(Buffer.from(text, 'base64'));
  }
  return text.toLowerCase();
}

function int64(value: unknown, path: string): bigint {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return BigInt.asIntN(64, BigInt(value));
  throw new OtlpJsonError(`${path} must be an integer or a decimal string`);
}

function uint64(value: unknown, path: string): bigint {
  if (value === undefined || value === null) return 0n;
  const n = int64(value, path);
  if (n < 0n) throw new OtlpJsonError(`${path} must not be negative`);
  return n;
}

function double(value: unknown, path: string): number {
  if (typeof value === 'number') return value;
  // proto3 JSON writes non-finite doubles as strings.
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
    return Number(value);
  throw new OtlpJsonError(`${path} must be a number`);
}

const KIND_NAMES = [
  'SPAN_KIND_UNSPECIFIED',
  'SPAN_KIND_INTERNAL',
  'SPAN_KIND_SERVER',
  'SPAN_KIND_CLIENT',
  'SPAN_KIND_PRODUCER',
  'SPAN_KIND_CONSUMER',
];

function spanKind(value: unknown, path: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && KIND_NAMES.includes(value)) return KIND_NAMES.indexOf(value);
  throw new OtlpJsonError(`${path} must be a SpanKind number or name`);
}

const STATUS_NAMES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

function statusCode(value: unknown, path: string): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && STATUS_NAMES.includes(value)) return STATUS_NAMES.indexOf(value);
  throw new OtlpJsonError(`${path} must be a StatusCode number or name`);
}

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
import { ProtoReader } from './proto-reader.js';

// Field numbers from opentelemetry-proto: collector/trace/v1/trace_service.proto, trace/v1/trace.proto,
// resource/v1/resource.proto and common/v1/common.proto. Fields not listed are skipped (forward compatibility).
const VARINT = 0;
const I64 = 1;
const LEN = 2;

/** Decodes an OTLP/HTTP `application/x-protobuf` body; throws ProtoError on malformed input. */
export function decodeOtlpProto(body: Uint8Array): OtlpRequest {
  const reader = new ProtoReader(body);
  const request: OtlpRequest = { resourceSpans: [] };
  while (!reader.done) {
    const [field, wire] = reader.tag();
    if (field === 1) {
      reader.expect(wire, LEN, field);
      request.resourceSpans.push(readResourceSpans(reader.message()));
    } else reader.skip(wire);
  }
  return request;
}

function readResourceSpans(reader: ProtoReader): OtlpResourceSpans {
  const out: OtlpResourceSpans = { resource: {}, scopeSpans: [] };
  while (!reader.done) {
    const [field, wire] = reader.tag();
    if (field === 1) {
      reader.expect(wire, LEN, field);
      const resource = reader.message();
      while (!resource.done) {
        const [f, w] = resource.tag();
        if (f === 1) {
          resource.expect(w, LEN, f);
          readKeyValue(resource.message(), out.resource);
        } else resource.skip(w);
      }
    } else if (field === 2) {
      reader.expect(wire, LEN, field);
      out.scopeSpans.push(readScopeSpans(reader.message()));
    } else reader.skip(wire);
  }
  return out;
}

function readScopeSpans(reader: ProtoReader): OtlpScopeSpans {
  const out: OtlpScopeSpans = { scope: { name: '' }, spans: [] };
  while (!reader.done) {
    const [field, wire] = reader.tag();
    if (field === 1) {
      reader.expect(wire, LEN, field);
      const scope = reader.message();
      while (!scope.done) {
        const [f, w] = scope.tag();
        if (f === 1 && w === LEN) out.scope.name = scope.string();
        else if (f === 2 && w === LEN) out.scope.version = scope.string();
        else scope.skip(w);
      }
    } else if (field === 2) {
      reader.expect(wire, LEN, field);
      out.spans.push(readSpan(reader.message()));
    } else reader.skip(wire);
  }
  return out;
}

function readSpan(reader: ProtoReader): OtlpSpan {
  const span = emptySpan();
  while (!reader.done) {
    const [field, wire] = reader.tag();
    switch (field) {
      case 1:
        reader.expect(wire, LEN, field);
        span.traceId = bytesToHex(reader.bytesField());
        break;
      case 2:
        reader.expect(wire, LEN, field);
        span.spanId = bytesToHex(reader.bytesField());
        break;
      case 3:
        reader.expect(wire, LEN, field);
        span.traceState = reader.string();
        break;
      case 4:
        reader.expect(wire, LEN, field);
        span.parentSpanId = bytesToHex(reader.bytesField());
        break;
      case 5:
        reader.expect(wire, LEN, field);
        span.name = reader.string();
        break;
      case 6:
        reader.expect(wire, VARINT, field);
        span.kind = reader.uint32();
        break;
      case 7:
        reader.expect(wire, I64, field);
        span.startTimeUnixNano = reader.fixed64();
        break;
      case 8:
        reader.expect(wire, I64, field);
        span.endTimeUnixNano = reader.fixed64();
        break;
      case 9:
        reader.expect(wire, LEN, field);
        readKeyValue(reader.message(), span.attributes);
        break;
      case 11:
        reader.expect(wire, LEN, field);
        span.events.push(readEvent(reader.message()));
        break;
      case 13:
        reader.expect(wire, LEN, field);
        span.links.push(readLink(reader.message()));
        break;
      case 15:
        reader.expect(wire, LEN, field);
        span.status = readStatus(reader.message());
        break;
      default:
        reader.skip(wire);
    }
  }
  return span;
}

function readEvent(reader: ProtoReader): OtlpSpan['events'][number] {
  const event: OtlpSpan['events'][number] = { timeUnixNano: 0n, name: '', attributes: {} };
  while (!reader.done) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === I64) event.timeUnixNano = reader.fixed64();
    else if (field === 2 && wire === LEN) event.name = reader.string();
    else if (field === 3 && wire === LEN) readKeyValue(reader.message(), event.attributes);
    else reader.skip(wire);
  }
  return event;
}

function readLink(reader: ProtoReader): OtlpSpan['links'][number] {
  const link: OtlpSpan['links'][number] = { traceId: '', spanId: '', traceState: '', attributes: {} };
  while (!reader.done) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === LEN) link.traceId = bytesToHex(reader.bytesField());
    else if (field === 2 && wire === LEN) link.spanId = bytesToHex(reader.bytesField());
    else if (field === 3 && wire === LEN) link.traceState = reader.string();
    else if (field === 4 && wire === LEN) readKeyValue(reader.message(), link.attributes);
    else reader.skip(wire);
  }
  return link;
}

function readStatus(reader: ProtoReader): OtlpSpan['status'] {
  const status = { code: 0, message: '' };
  while (!reader.done) {
    const [field, wire] = reader.tag();
    if (field === 2 && wire === LEN) status.message = reader.string();
    else if (field === 3 && wire === VARINT) status.code = reader.uint32();
    else reader.skip(wire);
  }
  return status;
}

function readKeyValue(reader: ProtoReader, into: AttributeMap): void {
  let key = '';
  let value: AttributeValue = null;
  while (!reader.done) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === LEN) key = reader.string();
    else if (field === 2 && wire === LEN) value = readAnyValue(reader.message());
    else reader.skip(wire);
  }
  setEntry(into, key, value);
}

// common.proto AnyValue oneof: string 1, bool 2, int64 3, double 4, ArrayValue 5, KeyValueList 6, bytes 7.
// An AnyValue with none set is "empty" and maps to null.
function readAnyValue(reader: ProtoReader): AttributeValue {
  let value: AttributeValue = null;
  while (!reader.done) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === LEN) value = reader.string();
    else if (field === 2 && wire === VARINT) value = reader.bool();
    else if (field === 3 && wire === VARINT) value = int64ToValue(reader.int64());
    else if (field === 4 && wire === I64) value = reader.double();
    else if (field === 5 && wire === LEN) value = readRepeatedValues(reader.message());
    else if (field === 6 && wire === LEN) {
      const list = reader.message();
      const map: AttributeMap = {};
      while (!list.done) {
        const [f, w] = list.tag();
        if (f === 1 && w === LEN) readKeyValue(list.message(), map);
        else list.skip(w);
      }
      value = map;
    } else if (field === 7 && wire === LEN) value = Buffer.from(reader.bytesField()).toString('base64');
    else reader.skip(wire);
  }
  return value;
}

function readRepeatedValues(reader: ProtoReader): AttributeValue[] {
  const values: AttributeValue[] = [];
  while (!reader.done) {
    const [field, wire] = reader.tag();
    if (field === 1 && wire === LEN) values.push(readAnyValue(reader.message()));
    else reader.skip(wire);
  }
  return values;
}

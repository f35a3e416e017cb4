// Bodies of OTLP/HTTP responses (OTLP spec, "OTLP/HTTP Response"), in the encoding the request used.
// trace_service.proto: ExportTraceServiceResponse.partial_success = 1; ExportTracePartialSuccess.rejected_spans = 1,
// error_message = 2. google/rpc/status.proto: Status.code = 1, message = 2.

export type OtlpEncoding = 'json' | 'protobuf';

export function exportResponse(encoding: OtlpEncoding, rejected: number, message: string): Buffer {
  if (encoding === 'json') {
    // An empty object is full success; partialSuccess is only filled in when something was rejected.
    return Buffer.from(
      JSON.stringify(
        rejected > 0 ? { partialSuccess: { rejectedSpans: String(rejected), errorMessage: message } } : {},
      ),
    );
  }
  if (rejected === 0) return Buffer.alloc(0);
  const inner = Buffer.concat([tag(1, 0), varint(rejected), stringField(2, message)]);
  return Buffer.concat([tag(1, 2), varint(inner.length), inner]);
}

/** A google.rpc.Status body for a refused request. gRPC code 3 is INVALID_ARGUMENT. */
export function statusResponse(encoding: OtlpEncoding, message: string, code = 3): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }));
  return Buffer.concat([tag(1, 0), varint(code), stringField(2, message)]);
}

function tag(field: number, wireType: number): Buffer {
  return varint((field << 3) | wireType);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

function stringField(field: number, value: string): Buffer {
  if (value === '') return Buffer.alloc(0);
  const bytes = Buffer.from(value, 'utf8');
  return Buffer.concat([tag(field, 2), varint(bytes.length), bytes]);
}

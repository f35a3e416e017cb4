/** OTLP `ExportTracePartialSuccess`: the collector took the request but rejected some spans (OTLP spec §Partial Success). */
export interface PartialSuccess {
  rejectedSpans: number;
  errorMessage: string;
}

/** What an OTLP receiver's 2xx answer says: all taken, some spans rejected or a warning, or not OTLP at all. */
export type OtlpAnswer =
  | { kind: 'ok' }
  | { kind: 'partial'; partial: PartialSuccess }
  | { kind: 'unreadable' };

/**
 * Reads `partial_success` from an `ExportTraceServiceResponse` body. An empty body, or a partial success with 0
 * rejected spans and no message, is full success; a body that does not parse (a proxy's login page answered with
 * 200) is `unreadable`: the spans may never have reached a collector.
 */
export function readOtlpAnswer(
  body: Uint8Array,
  protocol: 'http/json' | 'http/protobuf',
  contentType?: string,
): OtlpAnswer {
  if (body.length === 0) return OK;
  // The spec has the receiver answer in the request's encoding; one that answers in the other says so.
  const json = contentType?.includes('json') ?? protocol === 'http/json';
  const result = json ? fromJson(body) : fromProtobuf(body);
  if (result === undefined) return { kind: 'unreadable' };
  if (result === null || (result.rejectedSpans === 0 && result.errorMessage === '')) return OK;
  return { kind: 'partial', partial: result };
}

const OK: OtlpAnswer = { kind: 'ok' };

/** undefined: not JSON; null: no partial success in it. */
function fromJson(body: Uint8Array): PartialSuccess | null | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const partial = (parsed as { partialSuccess?: { rejectedSpans?: unknown; errorMessage?: unknown } })
    .partialSuccess;
  if (typeof partial !== 'object' || partial === null) return null;
  // proto3 JSON writes int64 as a string, but accepts a number too.
  const rejected = Number(partial.rejectedSpans ?? 0);
  return {
    rejectedSpans: Number.isFinite(rejected) && rejected > 0 ? rejected : 0,
    errorMessage: typeof partial.errorMessage === 'string' ? partial.errorMessage : '',
  };
}

// trace_service.proto: ExportTraceServiceResponse.partial_success = 1;
// ExportTracePartialSuccess.rejected_spans = 1 (int64), error_message = 2 (string).
/** undefined: not protobuf; null: no partial success in it. */
function fromProtobuf(body: Uint8Array): PartialSuccess | null | undefined {
  try {
    const outer = readFields(body);
    const partial = outer.get(1);
    if (!(partial instanceof Uint8Array)) return null;
    const inner = readFields(partial);
    const rejected = inner.get(1);
    const message = inner.get(2);
    return {
      rejectedSpans: typeof rejected === 'bigint' && rejected > 0n ? Number(rejected) : 0,
      errorMessage: message instanceof Uint8Array ? new TextDecoder().decode(message) : '',
    };
  } catch {
    return undefined;
  }
}

/** Last value of each field: varints as bigint, length-delimited as bytes; fixed-width fields are skipped. */
function readFields(bytes: Uint8Array): Map<number, bigint | Uint8Array> {
  const fields = new Map<number, bigint | Uint8Array>();
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new RangeError('truncated varint');
      const byte = bytes[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
      if (shift > 63n) throw new RangeError('varint too long');
    }
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wireType = key & 7;
    if (wireType === 0) fields.set(field, BigInt.asIntN(64, varint()));
    else if (wireType === 2) {
      const length = Number(varint());
      if (pos + length > bytes.length) throw new RangeError('truncated field');
      fields.set(field, bytes.subarray(pos, pos + length));
      pos += length;
    } else if (wireType === 1) pos += 8;
    else if (wireType === 5) pos += 4;
    else throw new RangeError(`unsupported wire type ${wireType}`);
  }
  return fields;
}

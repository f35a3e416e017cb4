/**
 * Reads protobuf binary encoding (protobuf encoding guide, "Message Structure"): a sequence of (tag, value) records,
 * tag = field << 3 | wire type. Only the wire types proto3 still uses are accepted: VARINT (0), I64 (1), LEN (2) and
 * I32 (5); the group types 3 and 4 are errors. Every read is bounds-checked so a truncated or hostile body throws
 * a ProtoError instead of reading past the end.
 */
export class ProtoError extends Error {
  override name = 'ProtoError';
}

export class ProtoReader {
  private pos: number;
  private readonly end: number;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    end = bytes.length,
  ) {
    this.pos = start;
    this.end = end;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next tag as [field number, wire type]. */
  tag(): [number, number] {
    const key = this.uint32();
    const field = key >>> 3;
    if (field === 0) throw new ProtoError(`invalid field number 0 at byte ${this.pos}`);
    return [field, key & 7];
  }

  /** A varint that fits 32 bits (tags, lengths, enums, uint32); wider values keep their low 32 bits. */
  uint32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = this.byte();
      result |= (byte & 0x7f) << shift;
      if (byte < 0x80) return result >>> 0;
    }
    // A varint is at most ten bytes; the upper five only carry bits a 32-bit value drops.
    for (let i = 0; i < 5; i++) if (this.byte() < 0x80) return result >>> 0;
    throw new ProtoError('varint longer than ten bytes');
  }

  /** A varint as a signed 64-bit integer (int64: negatives are ten-byte two's complement). */
  int64(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.byte();
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asIntN(64, result);
    }
    throw new ProtoError('varint longer than ten bytes');
  }

  bool(): boolean {
    return this.int64() !== 0n;
  }

  fixed32(): number {
    this.need(4);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  fixed64(): bigint {
    this.need(8);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  double(): number {
    this.need(8);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  bytesField(): Uint8Array {
    const length = this.uint32();
    this.need(length);
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  string(): string {
    return textDecoder.decode(this.bytesField());
  }

  /** A reader over an embedded message's bytes. */
  message(): ProtoReader {
    const length = this.uint32();
    this.need(length);
    const nested = new ProtoReader(this.bytes, this.pos, this.pos + length);
    this.pos += length;
    return nested;
  }

  /** Unknown fields must be skipped, not rejected (proto3 forward compatibility). */
  skip(wireType: number): void {
    if (wireType === 0) this.int64();
    else if (wireType === 1) this.advance(8);
    else if (wireType === 2) this.advance(this.uint32());
    else if (wireType === 5) this.advance(4);
    else throw new ProtoError(`unsupported wire type ${wireType}`);
  }

  /** Throws unless the field's wire type is the one the schema declares. */
  expect(wireType: number, expected: number, field: number): void {
    if (wireType !== expected) {
      throw new ProtoError(`field ${field} has wire type ${wireType}, expected ${expected}`);
    }
  }

  private byte(): number {
    if (this.pos >= this.end) throw new ProtoError('truncated message');
    return this.bytes[this.pos++]!;
  }

  private need(length: number): void {
    if (length > this.end - this.pos) throw new ProtoError('truncated message');
  }

  private advance(length: number): void {
    this.need(length);
    this.pos += length;
  }
}

// fatal: protobuf `string` fields must be valid UTF-8 (proto3 language guide, "Scalar Value Types").
const textDecoder = new TextDecoder('utf-8', { fatal: true });

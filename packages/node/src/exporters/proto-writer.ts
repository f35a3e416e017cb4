/**
 * The few protobuf wire types OTLP traces need (protobuf encoding guide): varint (0), fixed64 (1),
 * length-delimited (2) and fixed32 (5). Nested messages are written into their own writer, then framed.
 */
export class ProtoWriter {
  private buffer = new Uint8Array(256);
  private view = new DataView(this.buffer.buffer);
  private length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** Unsigned varint of a non-negative safe integer. */
  varint(value: number): void {
    this.reserve(10);
    while (value > 0x7f) {
      this.buffer[this.length++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buffer[this.length++] = value;
  }

  /** int64 as varint: negatives are their 64-bit two's complement, always ten bytes. */
  int64(field: number, value: bigint): void {
    this.tag(field, 0);
    this.reserve(10);
    let bits = BigInt.asUintN(64, value);
    while (bits > 0x7fn) {
      this.buffer[this.length++] = Number(bits & 0x7fn) | 0x80;
      bits >>= 7n;
    }
    this.buffer[this.length++] = Number(bits);
  }

  uint32(field: number, value: number): void {
    if (value === 0) return;
    this.tag(field, 0);
    this.varint(value >>> 0);
  }

  bool(field: number, value: boolean): void {
    this.tag(field, 0);
    this.varint(value ? 1 : 0);
  }

  fixed32(field: number, value: number): void {
    if (value === 0) return;
    this.tag(field, 5);
    this.reserve(4);
    this.view.setUint32(this.length, value >>> 0, true);
    this.length += 4;
  }

  fixed64(field: number, value: bigint): void {
    if (value === 0n) return;
    this.tag(field, 1);
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt.asUintN(64, value), true);
    this.length += 8;
  }

  double(field: number, value: number): void {
    this.tag(field, 1);
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  bytes(field: number, value: Uint8Array): void {
    this.tag(field, 2);
    this.varint(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  /** proto3 omits empty strings outside a oneof; `always` writes one anyway (oneof members must be present). */
  string(field: number, value: string | undefined, always = false): void {
    if (value === undefined || (value === '' && !always)) return;
    this.bytes(field, textEncoder.encode(value));
  }

  /** A hex id as raw bytes (OTLP ids are `bytes`, 16 for trace ids and 8 for span ids). */
  hexBytes(field: number, hex: string | undefined): void {
    if (!hex) return;
    const out = new Uint8Array(hex.length >> 1);
    for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    this.bytes(field, out);
  }

  message(field: number, write: (writer: ProtoWriter) => void): void {
    const nested = new ProtoWriter();
    write(nested);
    this.bytes(field, nested.finish());
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

const textEncoder = new TextEncoder();

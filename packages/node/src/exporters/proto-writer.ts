/**
 * The few protobuf wire types OTLP traces need (protobuf encoding guide): varint (0), fixed64 (1),
 * length-delimited (2) and fixed32 (5). One growing buffer for the whole request: a nested message or string is
 * written in place behind a one-byte length guess (two for a span, `openWide`), and only moved when its length
 * needs another varint size, so a batch of spans costs no per-field allocations and few copies.
 */
export class ProtoWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(initialSize = 4096) {
    this.buffer = new Uint8Array(initialSize);
    this.view = new DataView(this.buffer.buffer);
  }

  /** Bytes the buffer holds before it grows again. */
  get capacity(): number {
    return this.buffer.length;
  }

  /** Starts over, keeping the buffer (and the size it grew to) for the next message. */
  reset(): void {
    this.length = 0;
  }

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
  int64(field: number, value: bigint | number): void {
    this.tag(field, 0);
    // Non-negative safe integers (status codes, ports, sizes) need no BigInt.
    if (typeof value === 'number' && value >= 0) {
      this.varint(value);
      return;
    }
    this.reserve(10);
    let bits = BigInt.asUintN(64, BigInt(value));
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

  /** A length-delimited field: `bytes`, or a message already encoded (a kept attribute). */
  bytes(field: number, value: Uint8Array): void {
    this.tag(field, 2);
    this.varint(value.length);
    this.raw(value);
  }

  /** Bytes already encoded (a field written once and kept), appended as they are. */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.reserve(n);
    // `set` even for the few dozen bytes of a kept field: a byte loop here measured 1.7 µs per server span encoded
    // against 1.27 with `set` (Node 20).
    this.buffer.set(bytes, this.length);
    this.length += n;
  }

  /** Copies the bytes written in [start, end) into `target` at `at`. */
  copyInto(target: Uint8Array, at: number, start: number, end: number): void {
    target.set(this.buffer.subarray(start, end), at);
  }

  /** Where the next byte goes: with `copyInto`, to keep what a stretch of writing produced. */
  get position(): number {
    return this.length;
  }

  /** Forgets what was written after `position` (a value `position` returned): undoes a write that threw midway. */
  rewind(position: number): void {
    if (position < this.length) this.length = position;
  }

  /** proto3 omits empty strings outside a oneof; `always` writes one anyway (oneof members must be present). */
  string(field: number, value: string | undefined, always = false): void {
    if (value === undefined || (value === '' && !always)) return;
    this.tag(field, 2);
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    this.reserve(value.length * 3 + 1);
    const start = this.length + 1;
    let at = start;
    const buffer = this.buffer;
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) {
        at = start + textEncoder.encodeInto(value, buffer.subarray(start)).written;
        break;
      }
      buffer[at++] = c;
    }
    this.frame(start, at);
  }

  /** A hex id as raw bytes (OTLP ids are `bytes`, 16 for trace ids and 8 for span ids). */
  hexBytes(field: number, hex: string | undefined): void {
    if (!hex) return;
    const size = hex.length >> 1;
    this.tag(field, 2);
    this.varint(size);
    this.reserve(size);
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < 2 * size; i += 2) {
      // Ids are checked hex when they are made or read; masking keeps any pair a table index below 2^14.
      buffer[at++] = HEX_PAIR_BYTE[((hex.charCodeAt(i) & 0x7f) << 7) | (hex.charCodeAt(i + 1) & 0x7f)]!;
    }
    this.length = at;
  }

  /**
   * A span id as a `bytes` field of number 1 to 15 from its two big-endian 32-bit words (span-id-words.ts); its tag
   * and length take a byte each.
   */
  spanIdWords(field: number, w0: number, w1: number): void {
    const at = this.idField(field, 8);
    this.view.setInt32(at, w0);
    this.view.setInt32(at + 4, w1);
  }

  /** A trace id the same way, from its four words. */
  traceIdWords(field: number, w0: number, w1: number, w2: number, w3: number): void {
    const at = this.idField(field, 16);
    this.view.setInt32(at, w0);
    this.view.setInt32(at + 4, w1);
    this.view.setInt32(at + 8, w2);
    this.view.setInt32(at + 12, w3);
  }

  /** An id field's tag and one-byte length; answers where its `length` bytes (counted written) go. */
  private idField(field: number, length: number): number {
    this.reserve(2 + length);
    const at = this.length;
    this.buffer[at] = (field << 3) | 2;
    this.buffer[at + 1] = length;
    this.length = at + 2 + length;
    return at + 2;
  }

  /** Starts a nested message; write its fields, then `close` with what this returned. */
  open(field: number): number {
    return this.openBehind(field, 1);
  }

  close(start: number): void {
    this.frame(start, this.length);
  }

  /**
   * `open` for a message that is most often 128 bytes to 16 KB long (a span): two bytes are kept for its length, so
   * `closeWide` writes it in place instead of moving the message one byte up, as `close` would.
   */
  openWide(field: number): number {
    return this.openBehind(field, 2);
  }

  closeWide(start: number): void {
    this.frame(start, this.length, 2);
  }

  /** fixed64 from its two 32-bit halves, for values past 2^53 computed without BigInt. */
  fixed64Halves(field: number, high: number, low: number): void {
    if (high === 0 && low === 0) return;
    this.tag(field, 1);
    this.reserve(8);
    this.view.setUint32(this.length, low >>> 0, true);
    this.view.setUint32(this.length + 4, high >>> 0, true);
    this.length += 8;
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  /** What was written, without copying: valid until the writer is reset or written to again. */
  written(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  /** A length-delimited field's tag, then `lengthBytes` kept for its length; returns where its content starts. */
  private openBehind(field: number, lengthBytes: number): number {
    this.tag(field, 2);
    this.reserve(lengthBytes);
    const start = this.length + lengthBytes;
    this.length = start;
    return start;
  }

  /**
   * Content sits at [start, end) behind `reserved` bytes kept for its length: write the length varint there, moving
   * the content once when the varint needs another number of bytes.
   */
  private frame(start: number, end: number, reserved = 1): void {
    const size = end - start;
    if (size < 0x80 && reserved === 1) {
      this.buffer[start - 1] = size;
      this.length = end;
      return;
    }
    let bytes = 1;
    for (let v = size; v > 0x7f; v = Math.floor(v / 0x80)) bytes++;
    const shift = bytes - reserved;
    this.length = end;
    if (shift > 0) this.reserve(shift);
    const buffer = this.buffer;
    if (shift !== 0) buffer.copyWithin(start + shift, start, end);
    let at = start - reserved;
    let v = size;
    while (v > 0x7f) {
      buffer[at++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buffer[at] = v;
    this.length = end + shift;
  }
}

const textEncoder = new TextEncoder();

/**
 * Two hex character codes (`a << 7 | b`) → the byte they spell: a pair per lookup halves the loop. An id read from
 * a header is a slice of it, where each `charCodeAt` costs more (16 KB, built once).
 */
const HEX_PAIR_BYTE = new Uint8Array(1 << 14);
for (let a = 0; a < 128; a++) {
  for (let b = 0; b < 128; b++) HEX_PAIR_BYTE[(a << 7) | b] = (nibble(a) << 4) | nibble(b);
}

function nibble(c: number): number {
  // '0'-'9' → 0-9, 'a'-'f' / 'A'-'F' → 10-15; no other code reaches the table's users.
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : 0;
}

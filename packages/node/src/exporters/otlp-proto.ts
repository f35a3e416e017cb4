import { setImmediate as nextTurn } from 'node:timers/promises';
import { inheritsNoKeys } from '../attribute-record.js';
import { RecordingSpan } from '../recording-span.js';
import type {
  Attributes,
  AttributeValue,
  InstrumentationScope,
  ReadableSpan,
  Resource,
  SpanEvent,
  SpanLink,
} from '../span-data.js';
import { IdWords, KNOWN_PARENT_ID, KNOWN_SPAN_ID, KNOWN_TRACE_ID } from '../span-id-words.js';
import { groupByResourceAndScope, isInt64, linkFlags, spanFlags } from './otlp-grouping.js';
import { ProtoWriter } from './proto-writer.js';
import { toUnixNano } from './unix-nano.js';

// Field numbers from opentelemetry-proto: collector/trace/v1/trace_service.proto, trace/v1/trace.proto,
// resource/v1/resource.proto and common/v1/common.proto.

/** An `ExportTraceServiceRequest` in protobuf binary encoding (OTLP/HTTP `application/x-protobuf`). */
export function encodeOtlpProto(spans: readonly ReadableSpan[]): Uint8Array {
  const w = new ProtoWriter();
  writeRequest(w, spans, 0, spans.length);
  return w.finish();
}

/** Appends `spans[from, to)` as ResourceSpans messages: a whole request, or the next part of one. */
function writeRequest(w: ProtoWriter, spans: readonly ReadableSpan[], from: number, to: number): void {
  for (const group of groupByResourceAndScope(spans, from, to)) {
    const resourceSpans = w.open(1);
    writeResourceField(w, group.resource);
    for (const scopeGroup of group.scopes) {
      const scopeSpans = w.open(2);
      writeScopeField(w, scopeGroup.scope);
      for (const span of scopeGroup.spans) writeSpanField(w, span);
      w.close(scopeSpans);
    }
    w.close(resourceSpans);
  }
}

/** ResourceSpans' `resource` (field 1). */
export function writeResourceField(w: ProtoWriter, resource: Resource): void {
  const start = w.open(1);
  writeAttributes(w, 1, resource.attributes, keptSlot(RESOURCE_SLOT));
  w.close(start);
}

/** ScopeSpans' `scope` (field 1). */
export function writeScopeField(w: ProtoWriter, scope: InstrumentationScope): void {
  const start = w.open(1);
  w.string(1, scope.name);
  w.string(2, scope.version);
  w.close(start);
}

/** One span as ScopeSpans' repeated `spans` (field 2): a run of these is a scope's spans, however they were batched. */
export function writeSpanField(w: ProtoWriter, span: ReadableSpan): void {
  const start = w.openWide(2);
  writeSpan(w, span);
  w.closeWide(start);
}

/** Spans encoded per turn of the event loop: about 0.2 ms of work on a 2-core machine. */
const SLICE = 64;

/**
 * `encodeOtlpProto` for batches that run on a server's event loop: a full batch (512 spans) costs about a
 * millisecond, which every request in flight would wait for at once. Slices of 64 spans with a turn of the loop
 * between them keep each pause short. Protobuf concatenation merges messages and appends repeated fields
 * (protobuf encoding guide, "Last One Wins" and merging), so the result is still one ExportTraceServiceRequest,
 * with a `ResourceSpans` per slice. Everything is written into `writer` (reset first), which the caller reuses
 * from batch to batch: the returned bytes are the writer's own, valid until its next use.
 */
export function encodeOtlpProtoInSlices(
  spans: readonly ReadableSpan[],
  writer: ProtoWriter = new ProtoWriter(),
): Uint8Array | Promise<Uint8Array> {
  writer.reset();
  // One slice is written at once: an export of a few spans (a SimpleSpanProcessor's) is then under way before
  // the caller's code goes on, which an exit right after it needs to find it.
  if (spans.length <= SLICE) {
    writeRequest(writer, spans, 0, spans.length);
    return writer.written();
  }
  return encodeSlices(spans, writer);
}

async function encodeSlices(spans: readonly ReadableSpan[], writer: ProtoWriter): Promise<Uint8Array> {
  for (let i = 0; i < spans.length; i += SLICE) {
    if (i > 0) await nextTurn();
    writeRequest(writer, spans, i, Math.min(spans.length, i + SLICE));
  }
  return writer.written();
}

/** The words of a span that knows none of its ids (`known` 0): each is decoded from its hex. Never written to. */
const NO_ID_WORDS = new IdWords();

function writeSpan(w: ProtoWriter, span: ReadableSpan): void {
  const context = span.spanContext();
  // Ids our spans know as words are written from them; the others (a parent from a B3 header, spans of other SDKs)
  // are decoded from their hex.
  const ids = (span instanceof RecordingSpan ? span.idWords : undefined) ?? NO_ID_WORDS;
  if ((ids.known & KNOWN_TRACE_ID) !== 0) w.traceIdWords(1, ids.t0, ids.t1, ids.t2, ids.t3);
  else w.hexBytes(1, context.traceId);
  if ((ids.known & KNOWN_SPAN_ID) !== 0) w.spanIdWords(2, ids.s0, ids.s1);
  else w.hexBytes(2, context.spanId);
  w.string(3, context.traceState?.serialize());
  if ((ids.known & KNOWN_PARENT_ID) !== 0) w.spanIdWords(4, ids.p0, ids.p1);
  else w.hexBytes(4, span.parentSpanId);
  const kept = spanSlot(span.kind & 7, span.name);
  writeName(w, span.name, kept);
  // trace.proto SpanKind reserves 0 for UNSPECIFIED, so the API's INTERNAL=0 is 1 on the wire.
  w.uint32(6, span.kind + 1);
  writeUnixNano(w, 7, span.startTime);
  writeUnixNano(w, 8, span.endTime);
  writeAttributes(w, 9, span.attributes, kept);
  w.uint32(10, span.droppedAttributesCount);
  // Indexed loops: most spans have no events or links, and iterating their shared empty (frozen) array allocated an
  // iterator and its results for every span.
  const events = span.events;
  for (let i = 0; i < events.length; i++) {
    const start = w.open(11);
    writeEvent(w, events[i]!);
    w.close(start);
  }
  w.uint32(12, span.droppedEventsCount);
  const links = span.links;
  for (let i = 0; i < links.length; i++) {
    const start = w.open(13);
    writeLink(w, links[i]!);
    w.close(start);
  }
  w.uint32(14, span.droppedLinksCount);
  const status = w.open(15);
  w.string(2, span.status.message);
  w.uint32(3, span.status.code);
  w.close(status);
  w.fixed32(16, spanFlags(context.traceFlags, span.parentSpanId !== undefined, span.parentIsRemote));
}

const TWO_16 = 0x1_0000;
const TWO_32 = 0x1_0000_0000;

/**
 * `toUnixNano(ms)` as a fixed64, exactly, without BigInt (the two timestamps per span were most of the encoder's
 * time): whole ms = a·2^16 + b, so ns = a·10^6·2^16 + (b·10^6 + fraction), each part exact below 2^53.
 */
function writeUnixNano(w: ProtoWriter, field: number, ms: number): void {
  if (!(ms > 0) || !Number.isFinite(ms)) return;
  const whole = Math.floor(ms);
  const nanos = Math.round((ms - whole) * 1e6);
  const a = Math.floor(whole / TWO_16);
  const b = whole - a * TWO_16;
  const x = a * 1e6;
  const xHigh = Math.floor(x / TWO_16);
  const lowSum = (x - xHigh * TWO_16) * TWO_16 + b * 1e6 + nanos;
  const carry = Math.floor(lowSum / TWO_32);
  w.fixed64Halves(field, xHigh + carry, lowSum - carry * TWO_32);
}

function writeEvent(w: ProtoWriter, event: SpanEvent): void {
  w.fixed64(1, toUnixNano(event.time));
  w.string(2, event.name);
  if (event.attributes) writeAttributes(w, 3, event.attributes, keptSlot(EVENT_SLOT));
  w.uint32(4, event.droppedAttributesCount ?? 0);
}

function writeLink(w: ProtoWriter, link: SpanLink): void {
  w.hexBytes(1, link.context.traceId);
  w.hexBytes(2, link.context.spanId);
  w.string(3, link.context.traceState?.serialize());
  if (link.attributes) writeAttributes(w, 4, link.attributes, keptSlot(LINK_SLOT));
  w.uint32(5, link.droppedAttributesCount ?? 0);
  w.fixed32(6, linkFlags(link.context.traceFlags, link.context.isRemote));
}

/**
 * `field` is the attributes' field number in their message; `kept` is the slot of whose attributes they are, and so
 * which kept fields they use: a resource's, an event's, a link's, or a span's of one kind (a server span and a
 * client span share keys, like `server.port`, whose values differ between them).
 */
function writeAttributes(w: ProtoWriter, field: number, attributes: Attributes, kept: KeptSlot): void {
  // for-in rather than Object.keys, which made an array per span and event.
  const ownKeysOnly = inheritsNoKeys(attributes);
  // Kept fields that lie side by side in `keptBytes` are copied in one go: [runStart, runEnd).
  let runStart = 0;
  let runEnd = 0;
  let run = 0;
  let position = 0;
  for (const key in attributes) {
    if (!ownKeysOnly && !Object.hasOwn(attributes, key)) continue;
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    // Attributes are set in the same order time after time: the key at this position is most often the one the
    // last attributes of this slot had there, found without hashing it.
    let attribute = kept.byPosition[position];
    if (attribute === undefined || attribute.name !== key) {
      attribute = keptAttribute(kept, key);
      if (position < MAX_POSITIONS) kept.byPosition[position] = attribute;
    }
    position++;
    if (attribute.value === value || (attribute.earlier.length > 0 && recallEarlier(attribute, value))) {
      if (attribute.start !== runEnd) {
        if (runEnd > runStart) w.raw(keptRun(kept, run++, runStart, runEnd));
        runStart = attribute.start;
      }
      runEnd = attribute.end;
      continue;
    }
    if (runEnd > runStart) w.raw(keptRun(kept, run++, runStart, runEnd));
    runStart = runEnd = 0;
    const fieldStart = w.position;
    const kv = w.open(field);
    w.raw(attribute.key);
    const any = w.open(2);
    writeAnyValue(w, value);
    w.close(any);
    w.close(kv);
    const size = w.position - fieldStart;
    if (typeof value !== 'object' && size <= MAX_KEPT_BYTES && keepsAgain(attribute)) {
      if (keptLength + size > keptBytes.length) startKeepingOver(kept, attribute);
      if (attribute.value !== undefined) rememberCurrent(attribute);
      w.copyInto(keptBytes, keptLength, fieldStart, w.position);
      attribute.value = value;
      attribute.start = keptLength;
      attribute.end = keptLength += size;
    }
  }
  if (runEnd > runStart) w.raw(keptRun(kept, run, runStart, runEnd));
}

/**
 * `keptBytes[start, end)`, the `run`th run of kept fields in an attributes object, as a view. Spans of a slot make
 * the same runs time after time, so the view made for the last one is most often the one asked for: a new view
 * (`subarray`) cost about as much as the copy. keptBytes is never replaced, so a view of the same range is the same.
 */
function keptRun(slot: KeptSlot, run: number, start: number, end: number): Uint8Array {
  let view = slot.runs[run];
  if (view === undefined || view.byteOffset !== start || view.length !== end - start) {
    view = keptBytes.subarray(start, end);
    if (run < MAX_POSITIONS) slot.runs[run] = view;
  }
  return view;
}

/**
 * Most attributes of a service's spans repeat from span to span: every key, and most values (the method, the
 * route, the server's address, the status code). Per key and slot, the encoded key is kept, and so are the last
 * few values seen, each as a whole encoded field (tag, length and `KeyValue`), appended as it is when a span has
 * that value again: a service answers on several routes, with a few methods and status codes, so these values
 * alternate among a few. A key whose value keeps changing (a path, a peer port) stops being kept again after a few
 * misses, but for one in 256. Bounded in keys (apps may make keys from data) and in bytes.
 */
interface KeptAttribute {
  readonly name: string;
  /** The key as written in a `KeyValue` (tag, length, UTF-8). */
  readonly key: Uint8Array;
  /** The value met last; its field is `keptBytes[start, end)`. */
  value: string | number | boolean | undefined;
  start: number;
  end: number;
  /** Values kept before it, the most recently met first: at most `MAX_KEPT_VALUES - 1`. */
  readonly earlier: KeptValue[];
  misses: number;
  /** Spans that found their value among the earlier ones. */
  recalls: number;
}

interface KeptValue {
  value: string | number | boolean;
  start: number;
  end: number;
}

/** Values kept per key: a route, a method or a status code alternates among a few. */
const MAX_KEPT_VALUES = 4;

/**
 * One slot's kept attributes: by key, and the one last met at each of the first positions of an attributes object;
 * for spans, also their names' encoded fields (a route's name repeats span after span).
 */
interface KeptSlot {
  readonly byKey: Map<string, KeptAttribute>;
  readonly byPosition: (KeptAttribute | undefined)[];
  /** The view of each run of kept fields the last attributes object made, by its place among them. */
  readonly runs: (Uint8Array | undefined)[];
  readonly names: Map<string, Uint8Array>;
}

/** Names kept per slot; apps may name spans from data, so a full slot starts over. */
const MAX_KEPT_NAMES = 256;

/** Span's `name` (field 5), copied from its kept encoding when the slot has met the name before. */
function writeName(w: ProtoWriter, name: string, slot: KeptSlot): void {
  const kept = slot.names.get(name);
  if (kept !== undefined) {
    w.raw(kept);
    return;
  }
  const start = w.position;
  w.string(5, name);
  if (w.position - start > MAX_KEPT_BYTES) return;
  if (slot.names.size >= MAX_KEPT_NAMES) slot.names.clear();
  const encoded = new Uint8Array(w.position - start);
  w.copyInto(encoded, 0, start, w.position);
  slot.names.set(name, encoded);
}

const RESOURCE_SLOT = 0;
const EVENT_SLOT = 1;
const LINK_SLOT = 2;
/** Plus the span's kind (0-4; masked, as a slot index). */
const SPAN_SLOT = 3;
const slots: KeptSlot[] = [];
/** Per span kind, the slots of the first `MAX_NAMED_SLOTS` span names (`spanSlot`). */
const slotsByName: (Map<string, KeptSlot> | undefined)[] = [];
/** Names (routes) per kind with a slot of their own; their keys count towards `MAX_KEPT_KEYS` like the rest. */
const MAX_NAMED_SLOTS = 32;
let keptKeys = 0;
const MAX_KEPT_KEYS = 1024;
const MAX_POSITIONS = 32;
/** Longest encoded field kept: attributes that repeat are short, and 1024 of these stay small. */
const MAX_KEPT_BYTES = 256;
const keyWriter = new ProtoWriter(256);

/**
 * Every kept field, appended where it was first kept. A span's attributes, set in the same order each time, are
 * kept in that order, so most of a span's fields lie side by side here and go out with one copy (a copy per field
 * was about a third of the encoder's time). Starts over with the keys when full.
 */
const keptBytes = new Uint8Array(64 * 1024);
let keptLength = 0;

function keptSlot(slot: number): KeptSlot {
  let kept = slots[slot];
  if (kept === undefined) {
    kept = newSlot();
    slots[slot] = kept;
  }
  return kept;
}

function newSlot(): KeptSlot {
  return {
    byKey: new Map(),
    byPosition: new Array(MAX_POSITIONS).fill(undefined),
    runs: new Array(MAX_POSITIONS).fill(undefined),
    names: new Map(),
  };
}

/**
 * A span's slot: one per kind and name for the first names met (a server's routes, `GET /users/:id`), else its
 * kind's. Each route's spans then keep their fields side by side in the order they set them, and go out in as few
 * copies as a server with that one route: in one slot per kind, a route first met after another route's spans
 * found most of its fields where the other route had kept them, and its own route and status elsewhere (two more
 * copies per span, and more work per field).
 */
function spanSlot(kind: number, name: string): KeptSlot {
  let byName = slotsByName[kind];
  if (byName === undefined) {
    byName = new Map();
    slotsByName[kind] = byName;
  }
  const named = byName.get(name);
  if (named !== undefined) return named;
  if (byName.size >= MAX_NAMED_SLOTS) return keptSlot(SPAN_SLOT + kind);
  const slot = newSlot();
  byName.set(name, slot);
  return slot;
}

function keptAttribute(slot: KeptSlot, key: string): KeptAttribute {
  let attribute = slot.byKey.get(key);
  if (attribute === undefined) {
    // Full: start over rather than stop keeping, so keys made from data once do not crowd out the usual ones.
    // `keptBytes` is left as it is: a run being copied may still point into it (it starts over when full).
    if (keptKeys >= MAX_KEPT_KEYS) forgetKeptAttributes();
    keyWriter.reset();
    keyWriter.string(1, key);
    attribute = {
      name: key,
      key: keyWriter.finish(),
      value: undefined,
      start: 0,
      end: 0,
      earlier: [],
      misses: 0,
      recalls: 0,
    };
    slot.byKey.set(key, attribute);
    keptKeys++;
  }
  return attribute;
}

function forgetKeptAttributes(): void {
  for (const slot of slots) if (slot !== undefined) forgetSlot(slot);
  for (const byName of slotsByName)
    if (byName !== undefined) for (const slot of byName.values()) forgetSlot(slot);
  keptKeys = 0;
}

function forgetSlot(slot: KeptSlot): void {
  slot.byKey.clear();
  slot.byPosition.fill(undefined);
}

/** `keptBytes` is full: forget every kept field but `attribute`'s key, which is about to be kept again. */
function startKeepingOver(slot: KeptSlot, attribute: KeptAttribute): void {
  forgetKeptAttributes();
  // Its values kept so far lie in the bytes about to be written over.
  attribute.value = undefined;
  attribute.earlier.length = 0;
  slot.byKey.set(attribute.name, attribute);
  keptKeys = 1;
  keptLength = 0;
}

/**
 * Whether `value` is one of the values kept before the last one; if so it becomes the last one (the others move
 * down a place), so a run of spans with that value finds it at once.
 */
function recallEarlier(attribute: KeptAttribute, value: AttributeValue): boolean {
  const earlier = attribute.earlier;
  for (let i = 0; i < earlier.length; i++) {
    const found = earlier[i]!;
    if (found.value !== value) continue;
    const { start, end } = found;
    found.value = attribute.value as string | number | boolean;
    found.start = attribute.start;
    found.end = attribute.end;
    for (let j = i; j > 0; j--) earlier[j] = earlier[j - 1]!;
    earlier[0] = found;
    attribute.value = value;
    attribute.start = start;
    attribute.end = end;
    attribute.recalls++;
    return true;
  }
  return false;
}

/** Moves the last value down among the earlier ones (before another is kept), the oldest dropping out when full. */
function rememberCurrent(attribute: KeptAttribute): void {
  const earlier = attribute.earlier;
  if (earlier.length === MAX_KEPT_VALUES - 1) earlier.pop();
  earlier.unshift({
    value: attribute.value as string | number | boolean,
    start: attribute.start,
    end: attribute.end,
  });
}

function keepsAgain(attribute: KeptAttribute): boolean {
  attribute.misses++;
  if (attribute.misses <= MAX_KEPT_VALUES || (attribute.misses & 0xff) === 0) return true;
  // A key none of whose earlier values ever came back (a path, a peer port) is not searched again: a miss then
  // costs what it did with one value kept.
  if (attribute.recalls === 0 && attribute.earlier.length > 0) attribute.earlier.length = 0;
  return false;
}

// common.proto AnyValue oneof: string 1, bool 2, int64 3, double 4, ArrayValue 5.
function writeAnyValue(w: ProtoWriter, value: AttributeValue | string | number | boolean): void {
  if (typeof value === 'string') w.string(1, value, true);
  else if (typeof value === 'boolean') w.bool(2, value);
  else if (typeof value === 'number') {
    if (isInt64(value)) w.int64(3, value);
    else w.double(4, value);
  } else {
    const array = w.open(5);
    for (const item of value) {
      const any = w.open(1);
      if (item !== null && item !== undefined) writeAnyValue(w, item);
      w.close(any);
    }
    w.close(array);
  }
}

import type { SpanContext } from '@tracewire/core';
import { AttributeRecord, claimAttributes } from './attribute-record.js';
import { epochMillisOrDate, monotonicNow, rootClockAt, wallClockOr } from './clock.js';
import { errorTypeOf } from './error-type.js';
import type { Span } from './span.js';
import {
  type Attributes,
  type AttributeValue,
  type InstrumentationScope,
  type ReadableSpan,
  type Resource,
  type SpanEvent,
  type SpanKind,
  type SpanLink,
  type SpanStatus,
  SpanStatusCode,
} from './span-data.js';
import type { IdWords } from './span-id-words.js';
import type { ResolvedSpanLimits } from './span-limits.js';

const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const NONE: readonly never[] = Object.freeze([]);

/** What every span of one tracer shares; one object per tracer, so a span carries no closures of its own. */
export interface SpanSink {
  readonly limits: ResolvedSpanLimits;
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
  spanEnded(span: RecordingSpan): void;
}

export interface RecordingSpanInit {
  name: string;
  kind: SpanKind;
  spanContext: SpanContext;
  parentSpanId: string | undefined;
  parentIsRemote?: boolean | undefined;
  /** Epoch milliseconds; defaults to now. */
  startTime?: number | Date | undefined;
  /** `startTime` is on the span's anchor, not the wall clock (StartSpanOptions#startOnAnchor). */
  startOnAnchor?: boolean | undefined;
  /** The local parent's `clock`, which its children keep; a span without one starts its own (clock.ts). */
  clock?: number | undefined;
  attributes?: Attributes | undefined;
  links?: readonly SpanLink[] | undefined;
  /** The span's ids as 32-bit words, and which of them are known (`RecordingSpan#idWords`). */
  idWords?: IdWords | undefined;
}

/** A sampled span: records what instrumentation tells it until `end()`, then hands itself to the processors. */
export class RecordingSpan implements Span, ReadableSpan {
  name: string;
  readonly kind: SpanKind;
  readonly parentSpanId: string | undefined;
  readonly parentIsRemote: boolean;
  readonly startTime: number;
  /** @internal Epoch ms at monotonic 0 for this span's trace in this process: its times are this + monotonic. */
  readonly clock: number;
  /** 0 until the span ends. */
  endTime = 0;
  ended = false;
  readonly attributes: Attributes;
  status: SpanStatus = UNSET;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  /** @internal Links in the tracer's list of open spans. */
  openPrev: RecordingSpan | undefined = undefined;
  /** @internal */
  openNext: RecordingSpan | undefined = undefined;
  /** @internal */
  openTracked = false;
  /**
   * @internal The span's ids as big-endian 32-bit words, for the OTLP encoder: protobuf sends ids as bytes, and
   * decoding the hex of a span's three ids was the largest item of encoding it. Undefined when none is known.
   */
  readonly idWords: IdWords | undefined;
  /** A start time the caller gave on the wall clock, perhaps a faked or stepped one (`now()`). */
  readonly #startGiven: boolean;
  readonly #context: SpanContext;
  readonly #sink: SpanSink;
  #attributeCount = 0;
  // Most spans never get an event or a link: the arrays are made on the first one.
  #events: SpanEvent[] | undefined;
  #links: SpanLink[] | undefined;

  constructor(sink: SpanSink, init: RecordingSpanInit) {
    this.#sink = sink;
    this.#context = init.spanContext;
    this.name = init.name;
    this.kind = init.kind;
    this.parentSpanId = init.parentSpanId;
    this.parentIsRemote = init.parentIsRemote === true;
    this.idWords = init.idWords;
    const monotonic = monotonicNow();
    this.clock = init.clock ?? rootClockAt(monotonic);
    const startTime = epochMillisOrDate(init.startTime);
    const given = startTime !== undefined;
    this.#startGiven = given && init.startOnAnchor !== true;
    this.startTime = given ? startTime : this.clock + monotonic;
    const attributes = init.attributes;
    if (attributes !== undefined && claimAttributes(attributes) && this.#adopt(attributes)) {
      this.attributes = attributes;
    } else {
      this.attributes = new AttributeRecord();
      if (attributes !== undefined) this.setAttributes(attributes);
    }
    if (init.links !== undefined) for (const link of init.links) this.addLink(link);
  }

  /**
   * Takes a record made by `newAttributes()` as this span's own instead of copying it key by key: cleans its
   * values in place and counts them. False, leaving it to be copied, when it holds more than the limit allows.
   */
  #adopt(attributes: Attributes): boolean {
    const limits = this.#sink.limits;
    let count = 0;
    for (const key in attributes) {
      const value = attributes[key];
      const clean = cleanValue(value, limits.attributeValueLengthLimit);
      if (clean === undefined) delete attributes[key];
      else {
        if (clean !== value) attributes[key] = clean;
        count++;
      }
    }
    if (count > limits.attributeCountLimit) return false;
    this.#attributeCount = count;
    return true;
  }

  get events(): readonly SpanEvent[] {
    return this.#events ?? NONE;
  }

  get links(): readonly SpanLink[] {
    return this.#links ?? NONE;
  }

  get resource(): Resource {
    return this.#sink.resource;
  }

  get scope(): InstrumentationScope {
    return this.#sink.scope;
  }

  /** Milliseconds; 0 until the span ends. */
  get duration(): number {
    return this.ended ? this.endTime - this.startTime : 0;
  }

  spanContext(): SpanContext {
    return this.#context;
  }

  /** OpenTelemetry: a span stops recording once it has ended. */
  isRecording(): boolean {
    return !this.ended;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (this.ended || typeof key !== 'string' || key.length === 0) return this;
    const limits = this.#sink.limits;
    const clean = cleanValue(value, limits.attributeValueLengthLimit);
    if (clean === undefined || !this.#admits(key in this.attributes)) return this;
    this.attributes[key] = clean;
    return this;
  }

  /**
   * @internal What a server span learns as its response ends, as `setAttribute('http.route', route)` and
   * `setAttribute('http.response.status_code', status)` would set it. The keys are written out because
   * `setAttribute`'s store and `in` check meet every key of the process: V8 handles those two sites generically
   * (megamorphic), while each of these meets one key.
   */
  setRouteAndStatus(route: string | undefined, status: number | undefined): void {
    if (this.ended) return;
    const attributes = this.attributes;
    if (route !== undefined && this.#admits('http.route' in attributes))
      attributes['http.route'] = cleanValue(route, this.#sink.limits.attributeValueLengthLimit) as string;
    if (status !== undefined && this.#admits('http.response.status_code' in attributes))
      attributes['http.response.status_code'] = status;
  }

  /** Whether a key may be stored: it is there already, or the count limit leaves room (then it is counted). */
  #admits(present: boolean): boolean {
    if (present) return true;
    if (this.#attributeCount >= this.#sink.limits.attributeCountLimit) {
      this.droppedAttributesCount++;
      return false;
    }
    this.#attributeCount++;
    return true;
  }

  setAttributes(attributes: Attributes): this {
    if (this.ended || attributes === null || typeof attributes !== 'object') return this;
    for (const key of Object.keys(attributes)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributes?: Attributes, time?: number | Date): this {
    if (this.ended) return this;
    const limits = this.#sink.limits;
    this.#events ??= [];
    const events = this.#events;
    if (events.length >= limits.eventCountLimit) {
      this.droppedEventsCount++;
      return this;
    }
    const event: SpanEvent = {
      name: String(name),
      time: epochMillisOrDate(time) ?? this.now(),
    };
    if (attributes !== undefined) {
      const limited = limitAttributes(
        attributes,
        limits.eventAttributeCountLimit,
        limits.attributeValueLengthLimit,
      );
      event.attributes = limited.attributes;
      if (limited.dropped > 0) event.droppedAttributesCount = limited.dropped;
    }
    events.push(event);
    return this;
  }

  addLink(link: SpanLink): this {
    if (this.ended || link === null || typeof link !== 'object' || link.context === undefined) return this;
    const limits = this.#sink.limits;
    this.#links ??= [];
    const links = this.#links;
    if (links.length >= limits.linkCountLimit) {
      this.droppedLinksCount++;
      return this;
    }
    const copy: SpanLink = { context: link.context };
    if (link.attributes !== undefined) {
      const limited = limitAttributes(
        link.attributes,
        limits.linkAttributeCountLimit,
        limits.attributeValueLengthLimit,
      );
      copy.attributes = limited.attributes;
      if (limited.dropped > 0) copy.droppedAttributesCount = limited.dropped;
    }
    links.push(copy);
    return this;
  }

  /** OpenTelemetry semantic conventions, "Exceptions" (exception event): `exception.type`, `.message`, `.stacktrace`. */
  recordException(error: unknown, time?: number | Date): this {
    if (this.ended) return this;
    return this.addEvent('exception', exceptionAttributes(error), time);
  }

  /** OpenTelemetry trace API, "Set Status": UNSET is ignored, OK is final, a message is kept only for ERROR. */
  setStatus(status: SpanStatus): this {
    if (this.ended || status === null || typeof status !== 'object') return this;
    const code = status.code;
    if (code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    if (code === SpanStatusCode.OK) this.status = { code };
    else if (code === SpanStatusCode.ERROR) {
      this.status = typeof status.message === 'string' ? { code, message: status.message } : { code };
    }
    return this;
  }

  /** @internal Epoch ms now, on this span's clock. */
  now(): number {
    const anchored = this.clock + monotonicNow();
    return this.#startGiven ? wallClockOr(anchored) : anchored;
  }

  updateName(name: string): this {
    if (!this.ended && typeof name === 'string') this.name = name;
    return this;
  }

  end(endTime?: number | Date): void {
    if (this.ended) return;
    let time = epochMillisOrDate(endTime) ?? this.now();
    // A caller's explicit end time, or a start time from another clock, must not make the duration negative.
    if (!(time >= this.startTime)) time = this.startTime;
    this.endTime = time;
    this.ended = true;
    this.#sink.spanEnded(this);
  }
}

function cleanValue(value: unknown, maxLength: number): AttributeValue | undefined {
  switch (typeof value) {
    case 'string':
      return value.length > maxLength ? truncated(value, maxLength) : value;
    case 'number':
    case 'boolean':
      return value;
    case 'object':
      return Array.isArray(value) ? cleanArray(value, maxLength) : undefined;
    default:
      return undefined;
  }
}

/**
 * `value` cut to `maxLength` UTF-16 units, one fewer where the cut would split a surrogate pair (an emoji): half a
 * pair is no character, and encoders write it as U+FFFD.
 */
function truncated(value: string, maxLength: number): string {
  const last = value.charCodeAt(maxLength - 1);
  return value.slice(0, last >= 0xd800 && last <= 0xdbff ? maxLength - 1 : maxLength);
}

/** OpenTelemetry common spec: arrays are homogeneous primitives; the array is copied so later caller edits do not leak in. */
function cleanArray(values: unknown[], maxLength: number): AttributeValue | undefined {
  let type: string | undefined;
  const copy: unknown[] = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    let item = values[i];
    if (item === null || item === undefined) {
      copy[i] = null;
      continue;
    }
    const itemType = typeof item;
    if (itemType !== 'string' && itemType !== 'number' && itemType !== 'boolean') return undefined;
    if (type === undefined) type = itemType;
    else if (type !== itemType) return undefined;
    if (itemType === 'string' && (item as string).length > maxLength)
      item = truncated(item as string, maxLength);
    copy[i] = item;
  }
  return copy as AttributeValue;
}

function limitAttributes(
  attributes: Attributes,
  countLimit: number,
  maxLength: number,
): { attributes: Attributes; dropped: number } {
  const result: Attributes = Object.create(null);
  let count = 0;
  let dropped = 0;
  if (attributes === null || typeof attributes !== 'object') return { attributes: result, dropped };
  for (const key of Object.keys(attributes)) {
    const clean = cleanValue(attributes[key], maxLength);
    if (clean === undefined) continue;
    if (count >= countLimit) {
      dropped++;
      continue;
    }
    result[key] = clean;
    count++;
  }
  return { attributes: result, dropped };
}

function exceptionAttributes(error: unknown): Attributes {
  const attributes: Attributes = Object.create(null);
  try {
    if (typeof error === 'string') {
      attributes['exception.message'] = error;
      return attributes;
    }
    if (error === null || typeof error !== 'object') {
      attributes['exception.message'] = String(error);
      return attributes;
    }
    const { message, stack } = error as { message?: unknown; stack?: unknown };
    const type = errorTypeOf(error);
    if (type !== undefined) attributes['exception.type'] = type;
    if (typeof message === 'string') attributes['exception.message'] = message;
    if (typeof stack === 'string') attributes['exception.stacktrace'] = stack;
  } catch {
    // A throwing getter on a user's error object must not reach the app; record what we have.
  }
  // The event needs a type or a message (semantic conventions, exception spans): a thrown object with neither
  // (`throw { status: 500 }`) is named by its class.
  if (attributes['exception.type'] === undefined && attributes['exception.message'] === undefined) {
    attributes['exception.type'] = className(error as object);
  }
  return attributes;
}

function className(value: object): string {
  try {
    const name = (value.constructor as { name?: unknown } | undefined)?.name;
    return typeof name === 'string' && name.length > 0 ? name : 'Object';
  } catch {
    return 'Object';
  }
}

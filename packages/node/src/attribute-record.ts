import type { Attributes } from './span-data.js';

/**
 * A record without `Object.prototype` (so `__proto__`, `constructor`, `toString` are ordinary keys), made by a
 * constructor whose prototype is an empty null-prototype object: V8 keeps such objects in fast mode, while
 * `Object.create(null)` starts as a hash table. Server spans set the same keys in the same order, so their
 * records share hidden classes and each insert is a map transition instead of a hash insert.
 */
export const AttributeRecord = function AttributeRecord() {} as unknown as new () => Attributes;
AttributeRecord.prototype = Object.create(null);

// The last record `newAttributes()` made that no span has taken yet. Instrumentation makes one, fills it and starts
// its span at once, so one slot is enough; a span's own record (also an AttributeRecord) is never in it, and is
// copied when another span is started with it.
let unclaimed: Attributes | undefined;

/**
 * An empty record for instrumentation to fill and pass to `startSpan`: the span adopts it rather than copying
 * it. The caller must not touch it afterwards.
 */
export function newAttributes(): Attributes {
  const record = new AttributeRecord();
  unclaimed = record;
  return record;
}

/** Whether `record` is the one `newAttributes()` made last, not yet taken; a span taking it calls this once. */
export function claimAttributes(record: Attributes): boolean {
  if (record !== unclaimed) return false;
  unclaimed = undefined;
  return true;
}

/**
 * Whether `for…in` over `attributes` can only meet its own keys: a span's record, or an object without a
 * prototype. Encoders then skip an own-key check per key (about a tenth of an OTLP span's encoding).
 */
export function inheritsNoKeys(attributes: Attributes): boolean {
  return attributes instanceof AttributeRecord || Object.getPrototypeOf(attributes) === null;
}

import { TraceFlags } from '@tracewire/core';
import { describe, expect, it } from 'vitest';
import { newAttributes } from '../src/attribute-record.js';
import { NonRecordingSpan } from '../src/non-recording-span.js';
import type { RecordingSpan } from '../src/recording-span.js';
import { SpanKind, SpanStatusCode } from '../src/span-data.js';
import type { SpanLimits } from '../src/span-limits.js';
import { Tracer } from '../src/tracer.js';
import { SpanCollector } from './span-collector.js';

function setup(spanLimits?: SpanLimits) {
  const collector = new SpanCollector();
  const tracer = new Tracer({ processors: [collector], spanLimits });
  const start = (name = 'op') => tracer.startSpan(name, { parent: null }) as RecordingSpan;
  return { collector, tracer, start };
}

describe('RecordingSpan', () => {
  it('applies the span limits to a record from newAttributes that it takes over', () => {
    const { tracer, collector } = setup({ attributeValueLengthLimit: 3, attributeCountLimit: 2 });
    const fits = newAttributes();
    fits['url.path'] = '/users/1';
    fits.bad = { not: 'an attribute value' } as never;
    fits.n = 1;
    tracer.startSpan('fits', { parent: null, attributes: fits }).end();
    const tooMany = newAttributes();
    for (const key of ['a', 'b', 'c']) tooMany[key] = key;
    tracer.startSpan('too many', { parent: null, attributes: tooMany }).end();
    const [first, second] = collector.spans;
    expect({ ...first?.attributes }).toEqual({ 'url.path': '/us', n: 1 });
    expect(first?.droppedAttributesCount).toBe(0);
    expect({ ...second?.attributes }).toEqual({ a: 'a', b: 'b' });
    expect(second?.droppedAttributesCount).toBe(1);
  });

  it('takes times as Dates too, as the OpenTelemetry API does', () => {
    const { tracer, collector } = setup();
    const at = (ms: number) => new Date(1_764_300_000_000 + ms);
    const span = tracer.startSpan('dated', { parent: null, startTime: at(0) });
    span.addEvent('halfway', undefined, at(5));
    span.recordException(new Error('x'), at(6));
    span.end(at(10));
    const [ended] = collector.spans;
    expect(ended?.startTime).toBe(at(0).getTime());
    expect(ended?.events.map((event) => event.time)).toEqual([at(5).getTime(), at(6).getTime()]);
    expect(ended?.endTime).toBe(at(10).getTime());
  });

  it('never cuts a value inside a surrogate pair at attributeValueLengthLimit', () => {
    const { start } = setup({ attributeValueLengthLimit: 3 });
    const span = start();
    span.setAttribute('emoji', 'ab🚀cd');
    span.setAttribute('list', ['a🚀', 'abc']);
    expect(span.attributes['emoji']).toBe('ab');
    expect(span.attributes['list']).toEqual(['a🚀', 'abc']);
    span.setAttribute('cut', 'abcd🚀');
    expect(span.attributes['cut']).toBe('abc');
  });

  it('copies the attributes of a span it is started with; only a fresh newAttributes record is taken over', () => {
    const { tracer, collector } = setup();
    const original = tracer.startSpan('original', { parent: null, attributes: { 'http.route': '/orders' } });
    original.end();
    const ended = collector.spans[0]!;
    // A processor starting an alert span from an exported one, as a user's onEnd might.
    const alert = tracer.startSpan('alert', { parent: null, attributes: ended.attributes });
    alert.setAttribute('alert.severity', 'high');
    alert.end();
    // Before: both spans shared one record, and the ended, exported span changed.
    expect({ ...ended.attributes }).toEqual({ 'http.route': '/orders' });
    expect({ ...collector.spans[1]!.attributes }).toEqual({
      'http.route': '/orders',
      'alert.severity': 'high',
    });
    const fresh = newAttributes();
    fresh.a = 1;
    const taker = tracer.startSpan('taker', { parent: null, attributes: fresh }) as RecordingSpan;
    expect(taker.attributes).toBe(fresh);
    const second = tracer.startSpan('second', { parent: null, attributes: fresh }) as RecordingSpan;
    expect(second.attributes).not.toBe(fresh);
  });

  it('ends at the current time when given an end time that is not a finite number', () => {
    const { tracer, collector } = setup();
    const span = tracer.startSpan('op', { parent: null, startTime: Date.now() - 5 });
    span.end(Number.POSITIVE_INFINITY);
    const ended = collector.spans[0]!;
    expect(Number.isFinite(ended.endTime)).toBe(true);
    expect(ended.endTime).toBeGreaterThanOrEqual(ended.startTime);
  });

  it('records attributes, events, links, status, name and kind', () => {
    const { tracer, collector } = setup();
    const link = {
      context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 },
      attributes: { x: 1 },
    };
    const span = tracer.startSpan('first', {
      parent: null,
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'GET' },
      links: [link],
    });
    span
      .setAttribute('a', 'x')
      .setAttributes({ b: 2, c: true, d: ['p', 'q'] })
      .addEvent('ev', { k: 'v' }, 1234.5)
      .setStatus({ code: SpanStatusCode.ERROR, message: 'boom' })
      .updateName('second');
    span.end();
    const [done] = collector.spans;
    expect(done?.name).toBe('second');
    expect(done?.kind).toBe(SpanKind.SERVER);
    expect({ ...done?.attributes }).toEqual({
      'http.request.method': 'GET',
      a: 'x',
      b: 2,
      c: true,
      d: ['p', 'q'],
    });
    expect(done?.events).toEqual([{ name: 'ev', time: 1234.5, attributes: { k: 'v' } }]);
    expect(done?.links).toEqual([{ context: link.context, attributes: { x: 1 } }]);
    expect(done?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(done!.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(TraceFlags.SAMPLED);
    expect(done?.scope.name).toBe('@tracewire/node');
  });

  it('supports every span kind', () => {
    const { tracer, collector } = setup();
    for (const kind of Object.values(SpanKind)) tracer.startSpan('k', { kind, parent: null }).end();
    expect(collector.spans.map((s) => s.kind)).toEqual([0, 1, 2, 3, 4]);
  });

  it('ignores invalid attribute keys and values, and copies arrays', () => {
    const { start } = setup();
    const span = start();
    const list = ['a', 'b'];
    span.setAttribute('', 'empty key');
    span.setAttribute('undef', undefined);
    span.setAttribute('obj', { nested: true } as never);
    span.setAttribute('mixed', ['a', 1] as never);
    span.setAttribute('fn', (() => 1) as never);
    span.setAttribute('list', list);
    list.push('c');
    expect({ ...span.attributes }).toEqual({ list: ['a', 'b'] });
  });

  it('drops attributes past the count limit and counts them, but still overwrites existing keys', () => {
    const { start } = setup();
    const span = start();
    for (let i = 0; i < 130; i++) span.setAttribute(`k${i}`, i);
    span.setAttribute('k0', 'updated');
    expect(Object.keys(span.attributes)).toHaveLength(128);
    expect(span.attributes['k0']).toBe('updated');
    expect(span.attributes['k128']).toBeUndefined();
    expect(span.droppedAttributesCount).toBe(2);
  });

  it('drops events and links past the default limit of 128 and counts them', () => {
    const { start } = setup();
    const span = start();
    const context = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0 };
    for (let i = 0; i < 131; i++) span.addEvent(`e${i}`);
    for (let i = 0; i < 129; i++) span.addLink({ context });
    expect(span.events).toHaveLength(128);
    expect(span.droppedEventsCount).toBe(3);
    expect(span.links).toHaveLength(128);
    expect(span.droppedLinksCount).toBe(1);
  });

  it('applies configured limits, truncating long strings', () => {
    const { start } = setup({
      attributeCountLimit: 2,
      attributeValueLengthLimit: 3,
      eventCountLimit: 1,
      linkCountLimit: 0,
      eventAttributeCountLimit: 1,
    });
    const span = start();
    span.setAttributes({ a: 'abcdef', b: ['xyzw', 'q'], c: 1 });
    span.addEvent('one', { x: 'long value', y: 2 });
    span.addEvent('two');
    span.addLink({ context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0 } });
    expect({ ...span.attributes }).toEqual({ a: 'abc', b: ['xyz', 'q'] });
    expect(span.droppedAttributesCount).toBe(1);
    expect(span.events).toEqual([
      { name: 'one', time: expect.any(Number), attributes: { x: 'lon' }, droppedAttributesCount: 1 },
    ]);
    expect(span.droppedEventsCount).toBe(1);
    expect(span.droppedLinksCount).toBe(1);
  });

  it("counts a link's attributes left out by the link attribute limit, as it does for events", () => {
    const { start } = setup({ linkAttributeCountLimit: 1 });
    const span = start();
    const context = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0 };
    span.addLink({ context, attributes: { kept: 1, dropped: 2, alsoDropped: 3 } });
    span.addLink({ context, attributes: { only: 1 } });
    expect(span.links).toEqual([
      { context, attributes: { kept: 1 }, droppedAttributesCount: 2 },
      { context, attributes: { only: 1 } },
    ]);
  });

  it('records an exception as the OpenTelemetry exception event without setting status', () => {
    const { start } = setup();
    const span = start();
    const error = new TypeError('bad input');
    span.recordException(error);
    span.recordException('plain string');
    span.recordException(42);
    const [first, second, third] = span.events;
    expect(first?.name).toBe('exception');
    expect(first?.attributes).toEqual({
      'exception.type': 'TypeError',
      'exception.message': 'bad input',
      'exception.stacktrace': error.stack,
    });
    expect(second?.attributes).toEqual({ 'exception.message': 'plain string' });
    expect(third?.attributes).toEqual({ 'exception.message': '42' });
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records an exception whose getters throw without throwing', () => {
    const { start } = setup();
    const span = start();
    const hostile = {
      get name(): string {
        throw new Error('no');
      },
    };
    expect(() => span.recordException(hostile)).not.toThrow();
    expect(span.events[0]?.name).toBe('exception');
  });

  it('names a thrown object with neither type nor message by its class, as the event needs one of them', () => {
    const { start } = setup();
    const span = start();
    class Answer {
      readonly status = 500;
    }
    span.recordException({ status: 500, msg: 'x' });
    span.recordException(new Answer());
    span.recordException(Object.create(null));
    expect(span.events.map((event) => ({ ...event.attributes }))).toEqual([
      { 'exception.type': 'Object' },
      { 'exception.type': 'Answer' },
      { 'exception.type': 'Object' },
    ]);
  });

  it('follows the OpenTelemetry status rules: UNSET ignored, OK final, message only for ERROR', () => {
    const { start } = setup();
    const span = start();
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'first' });
    span.setStatus({ code: SpanStatusCode.UNSET });
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'first' });
    span.setStatus({ code: SpanStatusCode.OK, message: 'ignored message' });
    expect(span.status).toEqual({ code: SpanStatusCode.OK });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'too late' });
    expect(span.status).toEqual({ code: SpanStatusCode.OK });
  });

  it('ends once: a second end is ignored and the processors see the span once', () => {
    const { start, collector, tracer } = setup();
    const span = start();
    span.end(span.startTime + 5);
    span.end(span.startTime + 50);
    expect(collector.spans).toHaveLength(1);
    expect(collector.spans[0]?.endTime).toBe(span.startTime + 5);
    expect(tracer.stats.spansEnded).toBe(1);
  });

  it('ignores every change after end and stops recording', () => {
    const { start } = setup();
    const span = start('name');
    span.end();
    expect(span.isRecording()).toBe(false);
    span
      .setAttribute('a', 1)
      .addEvent('e')
      .recordException(new Error('x'))
      .setStatus({ code: SpanStatusCode.ERROR })
      .updateName('other')
      .addLink({ context: span.spanContext() });
    expect(span.name).toBe('name');
    expect(Object.keys(span.attributes)).toHaveLength(0);
    expect(span.events).toHaveLength(0);
    expect(span.links).toHaveLength(0);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('timestamps with sub-millisecond precision from performance.timeOrigin', () => {
    const { start } = setup();
    const before = performance.timeOrigin + performance.now();
    const spans = Array.from({ length: 20 }, () => start());
    const after = performance.timeOrigin + performance.now();
    for (const span of spans) {
      expect(span.startTime).toBeGreaterThanOrEqual(before);
      expect(span.startTime).toBeLessThanOrEqual(after);
    }
    expect(spans.some((span) => !Number.isInteger(span.startTime))).toBe(true);
    expect(Math.abs(spans[0]!.startTime - Date.now())).toBeLessThan(60_000);
  });

  it('never has a negative duration, even with an end time before the start', () => {
    const { start } = setup();
    const span = start();
    span.end(span.startTime - 1000);
    expect(span.endTime).toBe(span.startTime);
    expect(span.duration).toBe(0);
    const other = start();
    other.end(Number.NaN);
    expect(other.endTime - other.startTime).toBeGreaterThanOrEqual(0);
  });

  it('uses an explicit start time', () => {
    const { tracer } = setup();
    const span = tracer.startSpan('t', { parent: null, startTime: 1_700_000_000_000.25 }) as RecordingSpan;
    expect(span.startTime).toBe(1_700_000_000_000.25);
  });
});

describe('NonRecordingSpan', () => {
  it('carries its context and ignores everything else', () => {
    const context = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 0 };
    const span = new NonRecordingSpan(context);
    expect(span.spanContext()).toBe(context);
    expect(span.isRecording()).toBe(false);
    expect(
      span
        .setAttribute('a', 1)
        .setAttributes({ b: 2 })
        .addEvent('e')
        .addLink({ context })
        .recordException(new Error('x'))
        .setStatus({ code: SpanStatusCode.OK })
        .updateName('n'),
    ).toBe(span);
    expect(() => span.end()).not.toThrow();
  });
});

import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { bindContext, getActiveSpan, withSpan } from '../src/context.js';
import type { Span } from '../src/span.js';
import { Tracer } from '../src/tracer.js';

const tracer = new Tracer();

describe('active span context', () => {
  it('flows through await', async () => {
    const span = tracer.startSpan('s', { parent: null });
    await withSpan(span, async () => {
      await sleep(1);
      await Promise.resolve();
      expect(getActiveSpan()).toBe(span);
    });
  });

  it('flows into setTimeout, setImmediate, process.nextTick and queueMicrotask callbacks', async () => {
    const span = tracer.startSpan('s', { parent: null });
    const seen = await withSpan(span, () =>
      Promise.all([
        new Promise<Span | undefined>((resolve) => setTimeout(() => resolve(getActiveSpan()), 1)),
        new Promise<Span | undefined>((resolve) => setImmediate(() => resolve(getActiveSpan()))),
        new Promise<Span | undefined>((resolve) => process.nextTick(() => resolve(getActiveSpan()))),
        new Promise<Span | undefined>((resolve) => queueMicrotask(() => resolve(getActiveSpan()))),
      ]),
    );
    expect(seen).toEqual([span, span, span, span]);
  });

  it('flows into promise continuations created inside the span', async () => {
    const span = tracer.startSpan('s', { parent: null });
    const promise = withSpan(span, () => Promise.resolve(1).then(() => getActiveSpan()));
    expect(await promise).toBe(span);
  });

  it('flows into EventEmitter listeners emitted from inside the span', async () => {
    const emitter = new EventEmitter();
    const span = tracer.startSpan('s', { parent: null });
    const heard = once(emitter, 'data');
    let inListener: Span | undefined;
    emitter.on('data', () => {
      inListener = getActiveSpan();
    });
    withSpan(span, () => {
      setTimeout(() => emitter.emit('data'), 1);
    });
    await heard;
    expect(inListener).toBe(span);
  });

  it('runs a bound listener in the span it was bound in, though an emitter made outside emits it elsewhere', async () => {
    const emitter = new EventEmitter();
    const span = tracer.startSpan('s', { parent: null });
    const other = tracer.startSpan('other', { parent: null });
    const heard: (Span | undefined)[] = [];
    withSpan(span, () => {
      emitter.on('data', () => heard.push(getActiveSpan()));
      emitter.on(
        'data',
        bindContext(() => heard.push(getActiveSpan())),
      );
    });
    withSpan(other, () => emitter.emit('data'));
    expect(heard).toEqual([other, span]);
  });

  it('keeps this and the arguments of a bound function, and returns its result', () => {
    const span = tracer.startSpan('s', { parent: null });
    const pool = {
      size: 2,
      read: withSpan(span, () =>
        bindContext(function (this: { size: number }, n: number) {
          return [this.size * n, getActiveSpan()] as const;
        }),
      ),
    };
    expect(pool.read(21)).toEqual([42, span]);
  });

  it('runs a function bound outside any span with no active span, even when called inside one', () => {
    const unbound = bindContext(() => getActiveSpan());
    const span = tracer.startSpan('s', { parent: null });
    expect(withSpan(span, unbound)).toBeUndefined();
  });

  it('restores the outer span after a nested span scope ends', () => {
    const outer = tracer.startSpan('outer', { parent: null });
    const inner = tracer.startSpan('inner', { parent: null });
    withSpan(outer, () => {
      withSpan(inner, () => expect(getActiveSpan()).toBe(inner));
      expect(getActiveSpan()).toBe(outer);
    });
    expect(getActiveSpan()).toBeUndefined();
  });

  it('keeps 200 concurrent async tasks from ever seeing each other’s span', async () => {
    const mismatches: number[] = [];
    const task = (i: number) =>
      tracer.startActiveSpan(`task-${i}`, { parent: null }, async (span) => {
        for (let step = 0; step < 5; step++) {
          // Interleave tasks through every kind of async hop.
          if (step % 3 === 0) await sleep(Math.floor(Math.random() * 3));
          else if (step % 3 === 1) await new Promise((resolve) => setImmediate(resolve));
          else await Promise.resolve();
          if (getActiveSpan() !== span) mismatches.push(i);
          const child = tracer.startSpan('child');
          if (child.spanContext().traceId !== span.spanContext().traceId) mismatches.push(i);
          child.end();
        }
        span.end();
        return span.spanContext().traceId;
      });
    const traceIds = await Promise.all(Array.from({ length: 200 }, (_, i) => task(i)));
    expect(mismatches).toEqual([]);
    expect(new Set(traceIds).size).toBe(200);
  });
});

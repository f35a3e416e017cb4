import { afterEach, describe, expect, it, vi } from 'vitest';
import { withSpan } from '../src/context.js';
import type { RecordingSpan } from '../src/recording-span.js';
import { Tracer } from '../src/tracer.js';

// The monotonic clock does not count a machine's sleep, and the wall clock can be stepped: spans must follow the
// wall clock from one trace to the next, while the spans of one trace keep their order and durations.

const HOUR = 3_600_000;
const realNow = Date.now.bind(Date);
/** Longer than the clock's check interval (one second of monotonic time). */
const PAST_CHECK = 1050;

afterEach(() => {
  vi.restoreAllMocks();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('span clock', () => {
  it('starts the next trace on the wall clock after it jumped, and keeps a trace under way on its own', async () => {
    const tracer = new Tracer();
    const before = tracer.startSpan('before', { parent: null }) as RecordingSpan;
    expect(Math.abs(before.startTime - realNow())).toBeLessThan(5);

    // The machine slept for an hour: the wall clock moved on, the monotonic clock did not.
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + HOUR);
    await sleep(PAST_CHECK);

    const after = tracer.startSpan('after', { parent: null }) as RecordingSpan;
    expect(Math.abs(after.startTime - Date.now())).toBeLessThan(5);

    const child = withSpan(before, () => tracer.startSpan('child')) as RecordingSpan;
    expect(child.startTime - before.startTime).toBeGreaterThanOrEqual(PAST_CHECK - 5);
    expect(child.startTime - before.startTime).toBeLessThan(HOUR / 2);
    child.end();
    before.end();
    expect(before.endTime - before.startTime).toBeLessThan(HOUR / 2);
    expect(child.endTime).toBeLessThanOrEqual(before.endTime);
    after.end();
  });

  it('keeps its clock while the wall clock agrees to within a few milliseconds', async () => {
    const tracer = new Tracer();
    // Whatever an earlier test did to the wall clock is read again first.
    await sleep(PAST_CHECK);
    const first = tracer.startSpan('first', { parent: null }) as RecordingSpan;
    expect(Math.abs(first.startTime - realNow())).toBeLessThan(5);
    // 3 ms off the clock the spans are on, not off the real wall clock: the real one may already sit up to the
    // tolerance away from that clock (left so by the last check), and 3 more could then cross it.
    vi.spyOn(Date, 'now').mockImplementation(() => Math.floor(first.clock + performance.now() + 3));
    await sleep(PAST_CHECK);
    const second = tracer.startSpan('second', { parent: null }) as RecordingSpan;
    expect(second.clock).toBe(first.clock);
  });

  it('is back on the real clocks at once after fake timers that faked performance.now() too', () => {
    const tracer = new Tracer();
    // A test's fake timers, a day ahead on the monotonic clock and at the epoch on the wall clock.
    const realMonotonic = performance.now.bind(performance);
    vi.spyOn(performance, 'now').mockImplementation(() => realMonotonic() + 24 * HOUR);
    vi.spyOn(Date, 'now').mockImplementation(() => 0);
    const faked = tracer.startSpan('faked', { parent: null }) as RecordingSpan;
    expect(faked.startTime).toBeLessThan(HOUR);
    faked.end();
    vi.restoreAllMocks();

    const real = tracer.startSpan('real', { parent: null }) as RecordingSpan;
    expect(Math.abs(real.startTime - realNow())).toBeLessThan(5);
  });

  it("ends a span given its start time by the wall clock's reading, as OpenTelemetry's SDK does", async () => {
    const tracer = new Tracer();
    const root = tracer.startSpan('root', { parent: null }) as RecordingSpan;
    // The caller's wall clock (a faked one, or one stepped since the trace began) is not the trace's clock.
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + HOUR);
    const given = withSpan(root, () => tracer.startSpan('given', { startTime: Date.now() })) as RecordingSpan;
    await sleep(20);
    given.end();
    expect(given.endTime - given.startTime).toBeGreaterThanOrEqual(15);
    expect(given.endTime - given.startTime).toBeLessThan(1000);
    root.end();
  });

  it('keeps the clock of the active span given as the parent, as the OpenTelemetry API bridge gives it', async () => {
    const tracer = new Tracer();
    const root = tracer.startSpan('root', { parent: null }) as RecordingSpan;
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + HOUR);
    await sleep(PAST_CHECK);
    const child = withSpan(root, () =>
      tracer.startSpan('child', { parent: root.spanContext() }),
    ) as RecordingSpan;
    expect(child.clock).toBe(root.clock);
    const elsewhere = tracer.startSpan('elsewhere', { parent: root.spanContext() }) as RecordingSpan;
    expect(elsewhere.clock).not.toBe(root.clock);
  });

  it('ends a span given its start time after its children while the clocks agree', async () => {
    const tracer = new Tracer();
    // Whatever an earlier test did to the wall clock is read again first.
    await sleep(PAST_CHECK);
    let outside = 0;
    for (let i = 0; i < 200; i++) {
      const parent = tracer.startSpan('parent', { parent: null, startTime: Date.now() }) as RecordingSpan;
      const child = withSpan(parent, () => tracer.startSpan('child')) as RecordingSpan;
      child.end();
      parent.end();
      if (child.endTime > parent.endTime) outside++;
    }
    expect(outside).toBe(0);
  });
});

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
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3);
    await sleep(PAST_CHECK);
    const second = tracer.startSpan('second', { parent: null }) as RecordingSpan;
    expect(second.clock).toBe(first.clock);
  });
});

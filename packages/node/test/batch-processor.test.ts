import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchSpanProcessor } from '../src/batch-processor.js';
import { InMemoryExporter } from '../src/exporters/in-memory.js';
import type { ExportResult, ReadableSpan, SpanExporter } from '../src/span-data.js';
import { TracerStats } from '../src/stats.js';
import { makeSpan } from './fixtures/spans.js';

/** An exporter whose export calls stay pending until the test settles them. */
class ControlledExporter implements SpanExporter {
  calls: { spans: readonly ReadableSpan[]; resolve: (result: ExportResult) => void }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  shutdownCalls = 0;

  export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise((resolve) => {
      this.calls.push({
        spans,
        resolve: (result) => {
          this.inFlight--;
          resolve(result);
        },
      });
    });
  }

  shutdown(): Promise<void> {
    this.shutdownCalls++;
    return Promise.resolve();
  }
}

const processors: BatchSpanProcessor[] = [];
function track(processor: BatchSpanProcessor): BatchSpanProcessor {
  processors.push(processor);
  return processor;
}

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await Promise.all(processors.splice(0).map((p) => p.shutdown()));
});

describe('BatchSpanProcessor', () => {
  it('onEnd only queues: nothing is exported until the scheduled delay passes', async () => {
    const exporter = new InMemoryExporter();
    const processor = track(new BatchSpanProcessor(exporter, { scheduledDelayMillis: 30 }));
    const result = processor.onEnd(makeSpan());
    expect(result).toBeUndefined();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    expect(processor.queueLength).toBe(1);
    await vi.waitFor(() => expect(exporter.getFinishedSpans()).toHaveLength(1));
    expect(processor.stats.spansExported).toBe(1);
  });

  it('exports as soon as a batch fills, without waiting for the timer', async () => {
    const exporter = new ControlledExporter();
    const processor = track(
      new BatchSpanProcessor(exporter, {
        scheduledDelayMillis: 60_000,
        maxExportBatchSize: 4,
        maxQueueSize: 16,
      }),
    );
    for (let i = 0; i < 4; i++) processor.onEnd(makeSpan());
    expect(exporter.calls).toHaveLength(1);
    expect(exporter.calls[0]!.spans).toHaveLength(4);
    exporter.calls[0]!.resolve({ code: 0 });
  });

  it('drops new spans when the queue is full and counts them', () => {
    const exporter = new ControlledExporter();
    const stats = new TracerStats();
    const processor = track(
      new BatchSpanProcessor(
        exporter,
        { maxQueueSize: 10, maxExportBatchSize: 10, scheduledDelayMillis: 60_000, shutdownTimeoutMillis: 50 },
        stats,
      ),
    );
    // The first 10 fill a batch that goes out (and hangs); the next 10 fill the queue; the rest are dropped.
    for (let i = 0; i < 35; i++) processor.onEnd(makeSpan());
    expect(processor.queueLength).toBe(10);
    expect(stats.droppedQueueFull).toBe(15);
  });

  it('keeps dropping and counting when the warn function throws', () => {
    const exporter = new ControlledExporter();
    const warn = vi.fn(() => {
      throw new Error('logger gone');
    });
    const processor = track(
      new BatchSpanProcessor(exporter, {
        maxQueueSize: 2,
        maxExportBatchSize: 2,
        scheduledDelayMillis: 60_000,
        shutdownTimeoutMillis: 50,
        warn,
      }),
    );
    for (let i = 0; i < 6; i++) expect(() => processor.onEnd(makeSpan())).not.toThrow();
    expect(processor.stats.droppedQueueFull).toBe(2);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('never has more than maxConcurrentExports export calls in flight', async () => {
    const exporter = new ControlledExporter();
    const processor = track(
      new BatchSpanProcessor(exporter, {
        maxQueueSize: 100,
        maxExportBatchSize: 5,
        scheduledDelayMillis: 60_000,
        maxConcurrentExports: 2,
      }),
    );
    for (let i = 0; i < 30; i++) processor.onEnd(makeSpan());
    expect(exporter.inFlight).toBe(2);
    const flushed = processor.forceFlush();
    while (processor.stats.spansExported < 30) {
      for (const call of exporter.calls.splice(0)) call.resolve({ code: 0 });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await flushed;
    expect(exporter.maxInFlight).toBe(2);
    expect(processor.stats.spansExported).toBe(30);
  });

  it('abandons an export that never settles, counts its spans as failed and sends the next batch', async () => {
    vi.useFakeTimers();
    const exporter = new ControlledExporter();
    const processor = track(
      new BatchSpanProcessor(exporter, {
        exportTimeoutMillis: 30,
        maxExportBatchSize: 2,
        scheduledDelayMillis: 60_000,
        shutdownTimeoutMillis: 50,
      }),
    );
    for (let i = 0; i < 4; i++) processor.onEnd(makeSpan());
    expect(exporter.calls).toHaveLength(1);
    // exportTimeoutMillis, and the second the processor gives an exporter to end its own export.
    await vi.advanceTimersByTimeAsync(30 + 1000);
    expect(processor.stats.exportFailures).toBe(1);
    expect(processor.stats.droppedExportFailed).toBe(2);
    expect(exporter.calls).toHaveLength(2);
  });

  it('waits for an exporter that times out its own export at exportTimeoutMillis: no next export beside it', async () => {
    vi.useFakeTimers();
    const exporter = new ControlledExporter();
    const processor = track(
      new BatchSpanProcessor(exporter, {
        exportTimeoutMillis: 100,
        maxExportBatchSize: 2,
        scheduledDelayMillis: 60_000,
        shutdownTimeoutMillis: 50,
      }),
    );
    for (let i = 0; i < 4; i++) processor.onEnd(makeSpan());
    // An HTTP exporter's timer starts a moment after the processor's (encoding, gzip) and fires a moment later.
    await vi.advanceTimersByTimeAsync(105);
    // Before: the processor gave up at 100 ms and started the second batch while the first request still ran.
    expect(exporter.calls).toHaveLength(1);
    exporter.calls[0]!.resolve({ code: 1, error: new Error('export timed out after 100 ms') });
    await vi.advanceTimersByTimeAsync(0);
    expect(exporter.calls).toHaveLength(2);
    expect(exporter.maxInFlight).toBe(1);
    expect(processor.stats).toMatchObject({ exportFailures: 1, droppedExportFailed: 2 });
  });

  it('with a schedule delay of 0, sets no timer while every export slot is busy: nothing wakes the process', async () => {
    vi.useFakeTimers();
    const exporter = new ControlledExporter();
    const processor = track(
      new BatchSpanProcessor(exporter, { scheduledDelayMillis: 0, exportTimeoutMillis: 60_000 }),
    );
    processor.onEnd(makeSpan());
    await vi.advanceTimersByTimeAsync(1);
    expect(exporter.calls).toHaveLength(1);
    processor.onEnd(makeSpan());
    await vi.advanceTimersByTimeAsync(50);
    // Only the export's own time limit is pending, not a timer re-armed every millisecond.
    expect(vi.getTimerCount()).toBe(1);
    exporter.calls[0]!.resolve({ code: 0 });
    await vi.advanceTimersByTimeAsync(1);
    expect(exporter.calls).toHaveLength(2);
    exporter.calls[1]!.resolve({ code: 0 });
    await vi.advanceTimersByTimeAsync(1);
    expect(processor.stats).toMatchObject({ spansExported: 2 });
  });

  it('takes an export timeout as long as a timer can hold (2^31 - 1 ms) as that, not as 1 ms', async () => {
    const overflows: Error[] = [];
    const onWarning = (warning: Error) => {
      if (warning.name === 'TimeoutOverflowWarning') overflows.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const exporter = new ControlledExporter();
      const processor = track(
        new BatchSpanProcessor(exporter, {
          exportTimeoutMillis: 2 ** 31 - 1,
          maxExportBatchSize: 2,
          scheduledDelayMillis: 60_000,
        }),
      );
      for (let i = 0; i < 4; i++) processor.onEnd(makeSpan());
      // Past 2^31 - 1, Node fires a timer after 1 ms: the export would have been given up, the next one started.
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(exporter.calls).toHaveLength(1);
      exporter.calls[0]!.resolve({ code: 0 });
      await new Promise(setImmediate);
      expect(exporter.calls).toHaveLength(2);
      exporter.calls[1]!.resolve({ code: 0 });
      await new Promise(setImmediate);
      expect(exporter.maxInFlight).toBe(1);
      expect(processor.stats).toMatchObject({ spansExported: 4, exportFailures: 0, droppedExportFailed: 0 });
      expect(overflows).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('counts an exporter that throws or rejects, and never throws into onEnd or forceFlush', async () => {
    const stats = new TracerStats();
    const throwing: SpanExporter = {
      export: () => {
        throw new Error('boom');
      },
      shutdown: () => Promise.reject(new Error('boom')),
      forceFlush: () => Promise.reject(new Error('boom')),
    };
    const processor = track(new BatchSpanProcessor(throwing, { maxExportBatchSize: 1 }, stats));
    expect(() => processor.onEnd(makeSpan())).not.toThrow();
    await expect(processor.forceFlush()).resolves.toBeUndefined();
    const rejecting: SpanExporter = {
      export: () => Promise.reject(new Error('nope')),
      shutdown: async () => {},
    };
    const second = track(new BatchSpanProcessor(rejecting, { maxExportBatchSize: 1 }, stats));
    second.onEnd(makeSpan());
    await second.forceFlush();
    expect(stats.exportFailures).toBe(2);
    expect(stats.droppedExportFailed).toBe(2);
    await expect(processor.shutdown()).resolves.toBeUndefined();
  });

  it('counts a FAILED result as an export failure and partial-success rejections separately', async () => {
    const results: ExportResult[] = [
      { code: 1, error: new Error('503') },
      { code: 0, rejectedSpans: 2 },
    ];
    const exporter: SpanExporter = { export: async () => results.shift()!, shutdown: async () => {} };
    const processor = track(
      new BatchSpanProcessor(exporter, { maxExportBatchSize: 5, scheduledDelayMillis: 60_000 }),
    );
    for (let i = 0; i < 10; i++) processor.onEnd(makeSpan());
    await processor.forceFlush();
    expect(processor.stats).toMatchObject({
      exportFailures: 1,
      droppedExportFailed: 5,
      spansExported: 3,
      droppedRejected: 2,
    });
  });

  it('forceFlush exports everything queued, in batches', async () => {
    const exporter = new InMemoryExporter();
    const processor = track(
      new BatchSpanProcessor(exporter, {
        maxExportBatchSize: 3,
        maxQueueSize: 100,
        scheduledDelayMillis: 60_000,
      }),
    );
    const spy = vi.spyOn(exporter, 'export');
    for (let i = 0; i < 7; i++) processor.onEnd(makeSpan());
    await processor.forceFlush();
    expect(exporter.getFinishedSpans()).toHaveLength(7);
    expect(spy.mock.calls.map((call) => call[0].length)).toEqual([3, 3, 1]);
  });

  it('forceFlush delivers what was queued at the call and ends even while spans keep arriving', async () => {
    const exporter: SpanExporter = {
      export: () => new Promise((resolve) => setTimeout(() => resolve({ code: 0 }), 1)),
      shutdown: async () => {},
    };
    const processor = track(
      new BatchSpanProcessor(exporter, {
        maxExportBatchSize: 2,
        maxQueueSize: 1000,
        scheduledDelayMillis: 60_000,
      }),
    );
    for (let i = 0; i < 10; i++) processor.onEnd(makeSpan());
    const feed = setInterval(() => {
      for (let i = 0; i < 4; i++) processor.onEnd(makeSpan());
    }, 0);
    try {
      await processor.forceFlush();
    } finally {
      clearInterval(feed);
    }
    expect(processor.stats.spansExported).toBeGreaterThanOrEqual(10);
  });

  it('ignores spans whose trace is not sampled', async () => {
    const exporter = new InMemoryExporter();
    const processor = track(new BatchSpanProcessor(exporter));
    processor.onEnd(makeSpan({ traceFlags: 0 }));
    await processor.forceFlush();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('shutdown is idempotent, drains the queue, shuts the exporter down once and refuses later spans', async () => {
    const exporter = new InMemoryExporter();
    const shutdownSpy = vi.spyOn(exporter, 'shutdown');
    const processor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000 });
    for (let i = 0; i < 5; i++) processor.onEnd(makeSpan());
    const first = processor.shutdown();
    expect(processor.shutdown()).toBe(first);
    await first;
    expect(exporter.getFinishedSpans()).toHaveLength(5);
    expect(shutdownSpy).toHaveBeenCalledTimes(1);
    processor.onEnd(makeSpan());
    expect(processor.stats.droppedShutdown).toBe(1);
  });

  it('shutdown gives up at its deadline and counts what was still queued', async () => {
    const exporter = new ControlledExporter();
    const processor = new BatchSpanProcessor(exporter, {
      maxExportBatchSize: 2,
      maxQueueSize: 10,
      scheduledDelayMillis: 60_000,
      shutdownTimeoutMillis: 50,
    });
    for (let i = 0; i < 6; i++) processor.onEnd(makeSpan());
    await processor.shutdown();
    // One batch of 2 is stuck in the exporter; the 4 behind it never left.
    expect(processor.stats.droppedShutdown).toBe(4);
    expect(processor.queueLength).toBe(0);
  });

  it('shutdown gives the exporter’s own shutdown the same deadline, and does not wait past it', async () => {
    const exporter = new InMemoryExporter();
    // An exporter whose shutdown never settles (a connection pool that never drains).
    vi.spyOn(exporter, 'shutdown').mockReturnValue(new Promise(() => {}));
    const processor = new BatchSpanProcessor(exporter, {
      scheduledDelayMillis: 60_000,
      shutdownTimeoutMillis: 100,
    });
    processor.onEnd(makeSpan());
    const started = performance.now();
    await processor.shutdown();
    // Before: the deadline's timer was cleared once the queue drained, and shutdown() never returned.
    expect(performance.now() - started).toBeLessThan(2000);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('forceFlush waits for the exporter’s own forceFlush at most exportTimeoutMillis', async () => {
    const exporter = new InMemoryExporter();
    const flushed = vi.fn(() => new Promise<void>(() => {}));
    (exporter as SpanExporter).forceFlush = flushed;
    const processor = track(
      new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000, exportTimeoutMillis: 100 }),
    );
    processor.onEnd(makeSpan());
    const started = performance.now();
    await processor.forceFlush();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(flushed).toHaveBeenCalledTimes(1);
    expect(exporter.getFinishedSpans()).toHaveLength(1);
  });

  it('forceFlush shares one exportTimeoutMillis between a hung export and the exporter’s own forceFlush', async () => {
    vi.useFakeTimers();
    // An export that never settles, and an exporter forceFlush that waits for it, as HttpSpanSender#flush does.
    const exporter = new ControlledExporter();
    const flushed = vi.fn(() => new Promise<void>(() => {}));
    (exporter as SpanExporter).forceFlush = flushed;
    const processor = track(
      new BatchSpanProcessor(exporter, {
        scheduledDelayMillis: 60_000,
        exportTimeoutMillis: 1000,
        shutdownTimeoutMillis: 50,
      }),
    );
    processor.onEnd(makeSpan());
    let returned = false;
    void processor.forceFlush().then(() => {
      returned = true;
    });
    await vi.advanceTimersByTimeAsync(1010);
    // Before: the drain waited the full timeout for the export, then the exporter's forceFlush got another one.
    expect(returned).toBe(true);
    expect(exporter.calls).toHaveLength(1);
    expect(flushed).toHaveBeenCalledTimes(1);
  });

  describe('Retry-After', () => {
    /** Answers the first export with `first`, and every later one with success. */
    function throttlingExporter(first: ExportResult): SpanExporter & { calls: number } {
      const exporter = {
        calls: 0,
        export: async () => (exporter.calls++ === 0 ? first : { code: 0 as const }),
        shutdown: async () => {},
      };
      return exporter;
    }
    const throttled = (retryAfterMs: number): ExportResult => ({
      code: 1,
      error: new Error('HTTP 429'),
      retryAfterMs,
    });

    it('holds the next exports until the interval has passed, spans waiting in the bounded queue', async () => {
      vi.useFakeTimers();
      const exporter = throttlingExporter(throttled(5000));
      const processor = track(
        new BatchSpanProcessor(exporter, {
          maxExportBatchSize: 2,
          maxQueueSize: 10,
          scheduledDelayMillis: 100,
          shutdownTimeoutMillis: 50,
        }),
      );
      processor.onEnd(makeSpan());
      processor.onEnd(makeSpan());
      await vi.advanceTimersByTimeAsync(0);
      expect(exporter.calls).toBe(1);
      for (let i = 0; i < 30; i++) {
        processor.onEnd(makeSpan());
        await vi.advanceTimersByTimeAsync(150);
      }
      // Before: a batch left every time one filled, or at every scheduled delay.
      expect(exporter.calls).toBe(1);
      expect(processor.queueLength).toBe(10);
      expect(processor.stats.droppedQueueFull).toBe(20);
      await vi.advanceTimersByTimeAsync(600);
      expect(exporter.calls).toBeGreaterThan(1);
      await vi.waitFor(() => expect(processor.queueLength).toBe(0));
      expect(processor.stats.spansExported).toBe(10);
    });

    it('holds for at most 60 s, however long the receiver asked for', async () => {
      vi.useFakeTimers();
      const exporter = throttlingExporter(throttled(24 * 3600 * 1000));
      const processor = track(
        new BatchSpanProcessor(exporter, {
          maxExportBatchSize: 1,
          scheduledDelayMillis: 100,
          shutdownTimeoutMillis: 50,
        }),
      );
      processor.onEnd(makeSpan());
      processor.onEnd(makeSpan());
      await vi.advanceTimersByTimeAsync(59_000);
      expect(exporter.calls).toBe(1);
      await vi.advanceTimersByTimeAsync(1100);
      expect(exporter.calls).toBe(2);
    });

    it('forceFlush waits out a pause that ends before its deadline, then exports', async () => {
      vi.useFakeTimers();
      const exporter = throttlingExporter(throttled(300));
      const processor = track(
        new BatchSpanProcessor(exporter, {
          maxExportBatchSize: 1,
          scheduledDelayMillis: 60_000,
          exportTimeoutMillis: 1000,
          shutdownTimeoutMillis: 50,
        }),
      );
      processor.onEnd(makeSpan());
      await vi.advanceTimersByTimeAsync(0);
      processor.onEnd(makeSpan());
      let returned = false;
      void processor.forceFlush().then(() => {
        returned = true;
      });
      await vi.advanceTimersByTimeAsync(250);
      expect(exporter.calls).toBe(1);
      await vi.advanceTimersByTimeAsync(100);
      expect(exporter.calls).toBe(2);
      expect(returned).toBe(true);
      expect(processor.stats.spansExported).toBe(1);
    });

    it('shutdown and forceFlush do not wait out a pause longer than their deadline', async () => {
      vi.useFakeTimers();
      const exporter = throttlingExporter(throttled(30_000));
      const processor = new BatchSpanProcessor(exporter, {
        maxExportBatchSize: 1,
        scheduledDelayMillis: 60_000,
        exportTimeoutMillis: 1000,
        shutdownTimeoutMillis: 1000,
      });
      processor.onEnd(makeSpan());
      await vi.advanceTimersByTimeAsync(0);
      processor.onEnd(makeSpan());
      let flushed = false;
      void processor.forceFlush().then(() => {
        flushed = true;
      });
      await vi.advanceTimersByTimeAsync(0);
      expect(flushed).toBe(true);
      let shut = false;
      void processor.shutdown().then(() => {
        shut = true;
      });
      await vi.advanceTimersByTimeAsync(0);
      expect(shut).toBe(true);
      // The span queued behind the pause is counted as dropped at shutdown, not sent against the receiver's wish.
      expect(exporter.calls).toBe(1);
      expect(processor.stats.droppedShutdown).toBe(1);
    });
  });

  it('never keeps the process alive: its timers are unref’d', () => {
    const created: NodeJS.Timeout[] = [];
    const real = globalThis.setTimeout;
    vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const timer = real(fn, ms);
      created.push(timer);
      return timer;
    }) as typeof setTimeout);
    const processor = track(
      new BatchSpanProcessor(new ControlledExporter(), { maxExportBatchSize: 1, shutdownTimeoutMillis: 50 }),
    );
    processor.onEnd(makeSpan());
    processor.onEnd(makeSpan());
    expect(created.length).toBeGreaterThan(0);
    expect(created.every((timer) => !timer.hasRef())).toBe(true);
  });

  it('with only a maxQueueSize below 512, exports batches of the whole queue', async () => {
    const exporter = new ControlledExporter();
    const processor = track(
      new BatchSpanProcessor(exporter, {
        maxQueueSize: 4,
        scheduledDelayMillis: 60_000,
        shutdownTimeoutMillis: 50,
      }),
    );
    for (let i = 0; i < 4; i++) processor.onEnd(makeSpan());
    expect(exporter.calls.map((call) => call.spans.length)).toEqual([4]);
    exporter.calls[0]!.resolve({ code: 0 });
  });

  it('rejects invalid options with a RangeError naming the option', () => {
    const exporter = new InMemoryExporter();
    expect(() => new BatchSpanProcessor(exporter, { maxQueueSize: 0 })).toThrow(/maxQueueSize/);
    expect(() => new BatchSpanProcessor(exporter, { maxExportBatchSize: 1.5 })).toThrow(RangeError);
    expect(() => new BatchSpanProcessor(exporter, { maxQueueSize: 10, maxExportBatchSize: 20 })).toThrow(
      /maxExportBatchSize/,
    );
    expect(() => new BatchSpanProcessor(exporter, { scheduledDelayMillis: -1 })).toThrow(
      /scheduledDelayMillis/,
    );
    expect(() => new BatchSpanProcessor(exporter, { maxConcurrentExports: 0 })).toThrow(
      /maxConcurrentExports/,
    );
  });
});

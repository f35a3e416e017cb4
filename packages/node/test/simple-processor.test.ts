import { describe, expect, it } from 'vitest';
import { SimpleSpanProcessor } from '../src/simple-processor.js';
import type { ExportResult, ReadableSpan, SpanExporter } from '../src/span-data.js';
import { Tracer } from '../src/tracer.js';

class ManualExporter implements SpanExporter {
  readonly exported: string[] = [];
  readonly pending: (() => void)[] = [];
  shutdowns = 0;
  export(spans: readonly ReadableSpan[]): Promise<ExportResult> {
    return new Promise((resolve) => {
      this.pending.push(() => {
        for (const span of spans) this.exported.push(span.name);
        resolve({ code: 0 });
      });
    });
  }
  async shutdown(): Promise<void> {
    this.shutdowns++;
  }
}

describe('SimpleSpanProcessor', () => {
  it('exports each span as it ends, one call per span', () => {
    const exporter = new ManualExporter();
    const tracer = new Tracer({ processors: [new SimpleSpanProcessor(exporter)] });
    tracer.startSpan('a', { parent: null }).end();
    tracer.startSpan('b', { parent: null }).end();
    expect(exporter.pending).toHaveLength(2);
  });

  it('waits for exports in flight on forceFlush', async () => {
    const exporter = new ManualExporter();
    const processor = new SimpleSpanProcessor(exporter);
    const tracer = new Tracer({ processors: [processor] });
    tracer.startSpan('a', { parent: null }).end();
    let flushed = false;
    const flush = processor.forceFlush().then(() => {
      flushed = true;
    });
    await Promise.resolve();
    expect(flushed).toBe(false);
    for (const release of exporter.pending) release();
    await flush;
    expect(exporter.exported).toEqual(['a']);
  });

  it('shuts the exporter down once and ignores spans ended afterwards', async () => {
    const exporter = new ManualExporter();
    const processor = new SimpleSpanProcessor(exporter);
    const tracer = new Tracer({ processors: [processor] });
    await Promise.all([processor.shutdown(), processor.shutdown()]);
    expect(exporter.shutdowns).toBe(1);
    tracer.startSpan('late', { parent: null }).end();
    expect(exporter.pending).toHaveLength(0);
  });

  it('never throws when the exporter throws or rejects', async () => {
    const throwing: SpanExporter = {
      export: () => {
        throw new Error('sync');
      },
      shutdown: async () => {},
    };
    const rejecting: SpanExporter = {
      export: () => Promise.reject(new Error('async')),
      shutdown: async () => {},
    };
    const tracer = new Tracer({
      processors: [new SimpleSpanProcessor(throwing), new SimpleSpanProcessor(rejecting)],
    });
    expect(() => tracer.startSpan('x', { parent: null }).end()).not.toThrow();
    await expect(tracer.forceFlush()).resolves.toBeUndefined();
  });
});

describe('Tracer.addSpanProcessor', () => {
  it('hands spans ended after the call to the new processor', () => {
    const exporter = new ManualExporter();
    const tracer = new Tracer();
    const span = tracer.startSpan('started before', { parent: null });
    tracer.addSpanProcessor(new SimpleSpanProcessor(exporter));
    span.end();
    expect(exporter.pending).toHaveLength(1);
  });
});
